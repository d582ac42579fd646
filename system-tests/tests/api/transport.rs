//! Mutual TLS, reflection and health as a client meets them.

use superstar_proto::v1::song_producer_client::SongProducerClient;
use superstar_system_tests::TestSystem;
use superstar_testkit::{TestCa, channel};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test]
async fn a_client_without_a_certificate_is_refused_by_both_services() {
    let system = TestSystem::start().await;
    for addr in [system.song_producer.addr, system.cover_designer_addr()] {
        let refused = match channel(addr, system.ca.ca_path(), None).await {
            Err(_) => true,
            // The TLS 1.3 server's refusal can arrive with the first request instead.
            Ok(channel) => HealthClient::new(channel)
                .check(HealthCheckRequest::default())
                .await
                .is_err(),
        };
        assert!(refused, "{addr} served a client without a certificate");
    }
}

#[tokio::test]
async fn a_certificate_from_another_ca_is_refused() {
    let system = TestSystem::start().await;
    let other_ca = TestCa::new("Someone else's CA");
    let stranger = other_ca.issue("intruder");
    let refused = match channel(
        system.song_producer.addr,
        system.ca.ca_path(),
        Some(&stranger),
    )
    .await
    {
        Err(_) => true,
        Ok(channel) => SongProducerClient::new(channel)
            .list_songs(superstar_proto::v1::ListSongsRequest::default())
            .await
            .is_err(),
    };
    assert!(refused);
}

#[tokio::test]
async fn health_reports_each_service_and_the_server() {
    let system = TestSystem::start().await;
    let channel = system.channel_to(system.song_producer.addr).await;
    let mut health = HealthClient::new(channel);
    for service in ["", superstar_proto::SONG_PRODUCER] {
        let status = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(status.status(), ServingStatus::Serving, "{service:?}");
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "nope.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
}

#[tokio::test]
async fn reflection_v1_and_v1alpha_list_every_service() {
    use tonic_reflection::pb::{v1, v1alpha};
    let system = TestSystem::start().await;
    let channel = system.channel_to(system.cover_designer_addr()).await;
    let expected = [
        "grpc.health.v1.Health",
        superstar_proto::COVER_DESIGNER,
        superstar_proto::SONG_PRODUCER,
    ];

    // grpcurl 1.8 speaks v1alpha; newer clients speak v1. Both see the whole contract.
    let request = v1alpha::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1alpha::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let mut client =
        v1alpha::server_reflection_client::ServerReflectionClient::new(channel.clone());
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(v1alpha::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        replies.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a list of services");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for name in expected {
        assert!(
            names.iter().any(|n| n == name),
            "v1alpha lists {name}: {names:?}"
        );
    }

    let request = v1::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            v1::server_reflection_request::MessageRequest::FileContainingSymbol(
                "superstar.v1.SongProducer".into(),
            ),
        ),
    };
    let mut client = v1::server_reflection_client::ServerReflectionClient::new(channel);
    let mut replies = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let Some(v1::server_reflection_response::MessageResponse::FileDescriptorResponse(files)) =
        replies.message().await.unwrap().unwrap().message_response
    else {
        panic!("not a file descriptor");
    };
    assert!(!files.file_descriptor_proto.is_empty());
}

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
async fn reflection_v1_and_v1alpha_list_every_public_service() {
    use tonic_reflection::pb::{v1, v1alpha};
    let system = TestSystem::start().await;
    let channel = system.channel_to(system.cover_designer_addr()).await;
    let expected = [
        "grpc.health.v1.Health",
        superstar_proto::COVER_DESIGNER,
        superstar_proto::SONG_PRODUCER,
    ];

    // grpcurl 1.8 speaks v1alpha; newer clients speak v1. Both see the public contract.
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
    // Not the service only the song producer may call: no one else needs to see it.
    assert!(
        !names
            .iter()
            .any(|n| n == superstar_proto::COVER_DESIGNER_INTERNAL),
        "{names:?}"
    );

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

/// A peer is trusted for the name in its certificate, not for holding one: a
/// certificate the project's CA signed for another workload may reach health and
/// reflection, but no service.
#[tokio::test]
async fn a_certificate_of_the_ca_for_another_name_may_call_no_service() {
    use superstar_proto::v1::{DesignCoverRequest, cover_designer_client::CoverDesignerClient};
    let system = TestSystem::start().await;
    let other = system.ca.issue("batch-job");
    let songs = channel(system.song_producer.addr, system.ca.ca_path(), Some(&other))
        .await
        .expect("the handshake passes: the CA signed it");
    let denied = SongProducerClient::new(songs.clone())
        .list_songs(superstar_proto::v1::ListSongsRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    assert!(
        denied.message().contains("superstar.v1.SongProducer"),
        "{denied:?}"
    );
    let health = HealthClient::new(songs)
        .check(HealthCheckRequest::default())
        .await
        .expect("health is open to every peer of the CA");
    assert_eq!(health.into_inner().status(), ServingStatus::Serving);

    let covers = channel(
        system.cover_designer_addr(),
        system.ca.ca_path(),
        Some(&other),
    )
    .await
    .unwrap();
    let denied = CoverDesignerClient::new(covers)
        .design_cover(DesignCoverRequest {
            description: "a red sky".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
}

/// Only the song producer may withdraw an album's cover order: the gateway's own
/// certificate (the one these tests call with) may not, though it may order covers.
#[tokio::test]
async fn only_the_song_producer_may_call_the_internal_rpc() {
    use superstar_proto::v1::{
        WithdrawCoverRequest, cover_designer_internal_client::CoverDesignerInternalClient,
    };
    let system = TestSystem::start().await;
    let as_gateway = system.channel_to(system.cover_designer_addr()).await;
    let denied = CoverDesignerInternalClient::new(as_gateway)
        .withdraw_cover(WithdrawCoverRequest::default())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied, "{denied:?}");
    // The song producer's name: allowed through (an empty order is then its own error).
    let as_song_producer = system
        .channel_as_song_producer(system.cover_designer_addr())
        .await;
    let answered = CoverDesignerInternalClient::new(as_song_producer)
        .withdraw_cover(WithdrawCoverRequest::default())
        .await;
    assert!(
        !matches!(&answered, Err(status) if status.code() == tonic::Code::PermissionDenied),
        "{answered:?}"
    );
}

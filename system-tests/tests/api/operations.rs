//! What operators rely on: metrics, request ids, health during shutdown.

use std::time::Duration;

use superstar_proto::v1::{GetSongRequest, ListSongsRequest};
use superstar_system_tests::{TestSystem, http_get, sample};

use crate::{album_request, as_client};
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

#[tokio::test]
async fn rpcs_are_counted_by_method_and_code() {
    let mut system = TestSystem::start().await;
    let handled = |metrics: &str, code: &str| {
        sample(
            metrics,
            "grpc_server_handled_total",
            &[r#"method="GetSong""#, &format!(r#"code="{code}""#)],
        )
    };
    let before = http_get(system.song_producer.metrics_addr, "/metrics").await;

    let unknown = "0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e";
    for _ in 0..2 {
        let request = GetSongRequest {
            id: unknown.into(),
            read_mask: None,
        };
        assert!(system.songs.get_song(request).await.is_err());
    }
    system
        .songs
        .list_songs(ListSongsRequest::default())
        .await
        .unwrap();

    let after = http_get(system.song_producer.metrics_addr, "/metrics").await;
    assert_eq!(
        handled(&after, "NotFound") - handled(&before, "NotFound"),
        2.0,
        "{after}"
    );
    let listed = |m: &str| {
        sample(
            m,
            "grpc_server_handled_total",
            &[r#"method="ListSongs""#, r#"code="OK""#],
        )
    };
    assert_eq!(listed(&after) - listed(&before), 1.0);
    let started = |m: &str| sample(m, "grpc_server_started_total", &[r#"method="GetSong""#]);
    assert_eq!(started(&after) - started(&before), 2.0);
    assert!(after.contains("grpc_server_handling_seconds_bucket"));
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let mut system = TestSystem::start().await;
    let mut request = tonic::Request::new(ListSongsRequest::default());
    request
        .metadata_mut()
        .insert("x-request-id", "test-request-42".parse().unwrap());
    let response = system.songs.list_songs(request).await.unwrap();
    assert_eq!(
        response.metadata().get("x-request-id").unwrap(),
        "test-request-42"
    );

    let response = system
        .songs
        .list_songs(ListSongsRequest::default())
        .await
        .unwrap();
    let generated = response
        .metadata()
        .get("x-request-id")
        .expect("one is made when the caller sent none");
    assert_eq!(generated.len(), 36, "a UUID");
}

#[tokio::test]
async fn health_turns_not_serving_when_shutdown_begins() {
    let system = TestSystem::start_with_grace(Duration::from_millis(800)).await;
    let channel = system.channel_to(system.song_producer.addr).await;
    let mut health = HealthClient::new(channel);
    let check = HealthCheckRequest {
        service: superstar_proto::SONG_PRODUCER.into(),
    };
    assert_eq!(
        health
            .check(check.clone())
            .await
            .unwrap()
            .into_inner()
            .status(),
        ServingStatus::Serving
    );

    system.song_producer.trigger_shutdown();
    // During the grace period the server still answers, now NOT_SERVING.
    let not_serving = async {
        loop {
            let status = health
                .check(check.clone())
                .await
                .expect("still answering")
                .into_inner()
                .status();
            if status == ServingStatus::NotServing {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_millis(700), not_serving)
        .await
        .expect("NOT_SERVING within the grace period");
    system.song_producer.stop().await;
}

/// Each client's spending, on each service's metrics port: the song producer counts
/// the songs written for it, the cover designer the covers painted for it (the song
/// producer passes the client's name on).
#[tokio::test]
async fn each_clients_model_calls_and_images_are_counted() {
    let system = TestSystem::start().await;
    for (client, songs) in [("alice", 3), ("bob", 1)] {
        let request = as_client(client, album_request("jazz", "rain", songs));
        system
            .songs
            .clone()
            .make_me_superstar(request)
            .await
            .unwrap();
    }
    let songs = http_get(system.song_producer.metrics_addr, "/metrics").await;
    let covers = http_get(
        system.cover_designer.as_ref().unwrap().metrics_addr,
        "/metrics",
    )
    .await;
    for (client, songs_written) in [("alice", 3.0), ("bob", 1.0)] {
        let labels = [&*format!(r#"client="{client}""#), r#"model="offline""#];
        assert_eq!(
            sample(&songs, "superstar_model_calls_total", &labels),
            songs_written,
            "{songs}"
        );
        assert_eq!(
            sample(&covers, "superstar_images_total", &labels),
            1.0,
            "{covers}"
        );
        assert_eq!(sample(&covers, "superstar_model_calls_total", &labels), 1.0);
    }
}

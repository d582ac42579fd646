//! The real `song-producer` binary, as an orchestrator runs it: configured by the
//! environment, stopped by SIGTERM.

use std::{
    process::Command,
    time::{Duration, Instant},
};

use superstar_proto::v1::{
    JamRequest, JamRevise, JamStart, jam_reply::Event, jam_request::Action,
    song_producer_client::SongProducerClient,
};
use superstar_testkit::{ServiceProcess, TestCa, channel, wait_until_serving};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic_health::pb::{
    HealthCheckRequest, health_check_response::ServingStatus, health_client::HealthClient,
};

/// Starts the binary on ports the OS chooses.
fn spawn(ca: &TestCa, folder: &std::path::Path) -> ServiceProcess {
    let server = ca.issue("song-producer");
    let client = ca.issue("song-producer-client");
    let mut command = Command::new(env!("CARGO_BIN_EXE_song-producer"));
    command
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", folder.join("songs.db").display()),
        )
        .env("TLS_CERT", &server.cert)
        .env("TLS_KEY", &server.key)
        .env("TLS_CA", &server.ca)
        .env("TLS_CLIENT_CERT", &client.cert)
        .env("TLS_CLIENT_KEY", &client.key)
        .env("COVER_DESIGNER_URL", "https://localhost:1")
        .env("DRAIN_GRACE_MS", "2000")
        .env("RUST_LOG", "info");
    ServiceProcess::spawn(command)
}

#[tokio::test]
async fn sigterm_turns_health_not_serving_and_lets_open_streams_finish() {
    let ca = TestCa::new("lifecycle CA");
    let folder = tempfile::tempdir().unwrap();
    let mut process = spawn(&ca, folder.path());
    let (addr, metrics) = (process.grpc, process.metrics);
    // The container health check: `song-producer --probe` asks /healthz on the metrics port.
    let probe = || {
        Command::new(env!("CARGO_BIN_EXE_song-producer"))
            .arg("--probe")
            .env("METRICS_ADDR", metrics.to_string())
            .status()
            .unwrap()
            .success()
    };

    let me = ca.issue("envoy");
    let channel = loop {
        // The process needs a moment to bind; connection refusals until then are expected.
        match channel(addr, ca.ca_path(), Some(&me)).await {
            Ok(channel) => break channel,
            Err(_) if process.child.try_wait().unwrap().is_none() => {
                tokio::time::sleep(Duration::from_millis(10)).await
            }
            Err(error) => panic!("the song producer exited: {error}"),
        }
    };
    wait_until_serving(channel.clone(), superstar_proto::SONG_PRODUCER).await;
    assert!(probe(), "the probe sees a serving service");

    // A Jam session is open when the signal arrives.
    let (requests, outbound) = mpsc::channel(2);
    let mut replies = SongProducerClient::new(channel.clone())
        .jam(ReceiverStream::new(outbound))
        .await
        .unwrap()
        .into_inner();
    requests
        .send(JamRequest {
            action: Some(Action::Start(JamStart {
                genre: "jazz".into(),
                theme: "closing time".into(),
            })),
        })
        .await
        .unwrap();
    while !matches!(
        replies.message().await.unwrap().unwrap().event,
        Some(Event::Song(_))
    ) {}

    let signalled = Instant::now();
    let status = Command::new("kill")
        .args(["-TERM", &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());

    let mut health = HealthClient::new(channel);
    let check = HealthCheckRequest {
        service: String::new(),
    };
    loop {
        let status = health
            .check(check.clone())
            .await
            .expect("answering during the grace period");
        // Checks keep being answered until NOT_SERVING: one that fails first (the
        // expect above) means the process closed without saying so.
        if status.into_inner().status() == ServingStatus::NotServing {
            break;
        }
        tokio::task::yield_now().await;
    }

    assert!(!probe(), "the probe sees the shutdown");

    // The open session still works: one more take, then the client ends it.
    requests
        .send(JamRequest {
            action: Some(Action::Revise(JamRevise {
                instruction: "shorter".into(),
            })),
        })
        .await
        .unwrap();
    while !matches!(
        replies.message().await.unwrap().unwrap().event,
        Some(Event::Song(_))
    ) {}
    drop(requests);
    assert!(replies.message().await.unwrap().is_none());

    let exit = loop {
        if let Some(exit) = process.child.try_wait().unwrap() {
            break exit;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "the process exits within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(exit.success(), "{exit:?}");
}

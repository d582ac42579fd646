//! One budget per client across replicas whose clocks disagree: three real
//! `song-producer` processes share one PostgreSQL, one of them on a wall clock 10 s
//! ahead (libfaketime). A client spending through two agreeing replicas and a client
//! spending through one agreeing and the one ahead get the same budget: the burst, and
//! what refilled while they spent it.

use std::{process::Command, time::Instant};

use superstar_proto::v1::{GenerateLyricsRequest, song_producer_client::SongProducerClient};
use superstar_testkit::{
    ServiceProcess, TestCa, channel, faketime, scratch_postgres, wait_until_serving,
};
use tonic::{Code, transport::Channel};

const BURST: u32 = 20;

fn replica(ca: &TestCa, database: &str, clock: Option<&str>) -> ServiceProcess {
    let server = ca.issue("song-producer");
    let client = ca.issue("song-producer-client");
    let mut command = Command::new(env!("CARGO_BIN_EXE_song-producer"));
    command
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", database)
        .env("TLS_CERT", &server.cert)
        .env("TLS_KEY", &server.key)
        .env("TLS_CA", &server.ca)
        .env("TLS_CLIENT_CERT", &client.cert)
        .env("TLS_CLIENT_KEY", &client.key)
        .env("COVER_DESIGNER_URL", "https://localhost:1")
        .env("MODEL_RATE_PER_SECOND", "1")
        .env("MODEL_BURST", BURST.to_string())
        .env("RUST_LOG", "info");
    if let Some(offset) = clock {
        faketime(&mut command, offset);
    }
    ServiceProcess::spawn(command)
}

async fn client(ca: &TestCa, process: &ServiceProcess) -> SongProducerClient<Channel> {
    let channel = channel(process.grpc, ca.ca_path(), Some(&ca.issue("envoy")))
        .await
        .expect("the replica accepts the gateway's certificate");
    wait_until_serving(channel.clone(), superstar_proto::SONG_PRODUCER).await;
    SongProducerClient::new(channel)
}

/// One song for `client`, as the gateway forwards it: whether the budget let it pass.
async fn one_song(replica: &mut SongProducerClient<Channel>, client: &str) -> bool {
    let mut request = tonic::Request::new(GenerateLyricsRequest {
        genre: "synthwave".into(),
        theme: "clocks that disagree".into(),
        songs_count: 1,
    });
    request
        .metadata_mut()
        .insert("x-superstar-client", client.parse().unwrap());
    match replica.generate_lyrics(request).await {
        Ok(songs) => {
            let mut songs = songs.into_inner();
            while songs
                .message()
                .await
                .expect("the song is written")
                .is_some()
            {}
            true
        }
        Err(status) if status.code() == Code::ResourceExhausted => false,
        Err(status) => panic!("an unexpected failure: {status:?}"),
    }
}

/// Spends `client`'s budget a song at a time, alternating between `replicas`, until a
/// song is refused; returns the songs let through and the seconds it took.
async fn spend_all(replicas: &mut [SongProducerClient<Channel>; 2], client: &str) -> (u32, f64) {
    let started = Instant::now();
    let mut passed = 0;
    while one_song(&mut replicas[passed as usize % 2], client).await {
        passed += 1;
        assert!(passed < 10 * BURST, "the budget never ran out");
    }
    (passed, started.elapsed().as_secs_f64())
}

#[tokio::test]
#[ignore = "needs PostgreSQL and libfaketime: bin/test runs this"]
async fn a_replica_whose_clock_runs_ahead_spends_the_same_budget() {
    let ca = TestCa::new("budget CA");
    let database = scratch_postgres().await;
    let (first, second) = (replica(&ca, &database, None), replica(&ca, &database, None));
    let ahead = replica(&ca, &database, Some("+10s"));
    let mut agreeing = [client(&ca, &first).await, client(&ca, &second).await];
    let mut disagreeing = [client(&ca, &first).await, client(&ca, &ahead).await];

    for (client, replicas) in [("steady", &mut agreeing), ("skewed", &mut disagreeing)] {
        let (passed, seconds) = spend_all(replicas, client).await;
        // The burst, and at most one more call for each second spent (the rate).
        let refilled = seconds.ceil() as u32;
        assert!(
            (BURST..=BURST + refilled).contains(&passed),
            "{client}: {passed} calls passed in {seconds:.1} s; the budget is {BURST} and 1/s"
        );
    }
}

//! A request id's claim outlives no holder, and an order is paid for once: two real
//! `cover-designer` processes share one database; the one painting an order is killed
//! with `kill -9`, or loses its database connection for longer than a lease, or the
//! other's clock runs ahead; the client's retry on the other gets the order painted by
//! one provider call run to completion.

use std::{process::Command, time::Duration};

use sqlx::{Connection, Row, SqliteConnection};
use superstar_proto::v1::{DesignCoverRequest, cover_designer_client::CoverDesignerClient};
use superstar_server::storage::{db, idempotency::LEASE};
use superstar_testkit::{
    ServiceProcess, SlowProvider, StallingProxy, TestCa, channel, faketime, openai, postgres_addr,
    postgres_through, scratch_postgres, wait_until_serving,
};
use tonic::Code;
use tonic::transport::Channel;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{method, path},
};

const REQUEST_ID: &str = "3f0c2a9e-5b1d-4c7a-9e2f-8d6b4a1c0e57";

fn replica(ca: &TestCa, database: &str, provider: &MockServer) -> ServiceProcess {
    ServiceProcess::spawn(replica_command(
        ca,
        database,
        &format!("{}/v1", provider.uri()),
    ))
}

fn replica_command(ca: &TestCa, database: &str, provider: &str) -> Command {
    let server = ca.issue("cover-designer");
    let mut command = Command::new(env!("CARGO_BIN_EXE_cover-designer"));
    command
        .env_clear()
        .env("LISTEN_ADDR", "127.0.0.1:0")
        .env("METRICS_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", database)
        .env("TLS_CERT", &server.cert)
        .env("TLS_KEY", &server.key)
        .env("TLS_CA", &server.ca)
        .env("SUPERSTAR_PROVIDER", "openai")
        .env("OPENAI_API_KEY", "sk-lease-test")
        .env("OPENAI_BASE_URL", provider)
        .env("OPENAI_IMAGE_MODEL", openai::IMAGE_MODEL)
        .env("OPENAI_MAX_ATTEMPTS", "1")
        .env("RUST_LOG", "info");
    command
}

async fn client(ca: &TestCa, process: &ServiceProcess) -> CoverDesignerClient<Channel> {
    let channel = channel(process.grpc, ca.ca_path(), Some(&ca.issue("envoy")))
        .await
        .expect("the replica accepts the gateway's certificate");
    wait_until_serving(channel.clone(), superstar_proto::COVER_DESIGNER).await;
    CoverDesignerClient::new(channel)
}

fn order() -> tonic::Request<DesignCoverRequest> {
    let mut request = tonic::Request::new(DesignCoverRequest {
        description: "a lighthouse in a storm".into(),
        request_id: REQUEST_ID.into(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-superstar-client", "alice".parse().unwrap());
    request.set_timeout(Duration::from_secs(120));
    request
}

async fn provider_calls(provider: &MockServer) -> usize {
    provider.received_requests().await.unwrap_or_default().len()
}

#[tokio::test]
async fn a_killed_holder_loses_its_claim_and_the_retry_on_another_replica_paints_once() {
    let ca = TestCa::new("lease CA");
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("covers.db");
    let database = format!("sqlite://{}", file.display());
    // The first painting never finishes in time; every later one answers at once.
    let provider = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(600)))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&provider)
        .await;
    Mock::given(method("POST"))
        .and(path("/v1/images/generations"))
        .respond_with(openai::image_reply(&openai::png(64, 64), "a lighthouse"))
        .mount(&provider)
        .await;

    let mut first = replica(&ca, &database, &provider);
    let second = replica(&ca, &database, &provider);
    let mut to_first = client(&ca, &first).await;
    let mut to_second = client(&ca, &second).await;

    // The order reaches the first replica, which claims the id and starts painting.
    let abandoned = tokio::spawn(async move { to_first.design_cover(order()).await });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while provider_calls(&provider).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never painted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // It renews its lease while it works (a lease lasts LEASE; the first renewal
    // comes a third of the way in).
    let mut rows = SqliteConnection::connect(&database).await.unwrap();
    let lease_until = async |rows: &mut SqliteConnection| -> i64 {
        sqlx::query("SELECT lease_until FROM request_ids WHERE request_id = ?")
            .bind(REQUEST_ID)
            .fetch_one(rows)
            .await
            .unwrap()
            .get(0)
    };
    let claimed = lease_until(&mut rows).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while lease_until(&mut rows).await == claimed {
        assert!(tokio::time::Instant::now() < deadline, "never renewed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    first.kill();
    let killed_at = db::now_micros();
    assert!(
        abandoned.await.unwrap().is_err(),
        "the dead replica's caller got no cover"
    );
    // What the dead holder left: a claim still live when it died (its renewals kept it
    // so), which lapses within LEASE of its death.
    let lapses_at = lease_until(&mut rows).await;
    assert!(
        lapses_at > killed_at,
        "the claim had lapsed before its holder died: the renewals did not keep it"
    );
    assert!(
        lapses_at <= killed_at + LEASE.as_micros() as i64,
        "the claim outlives its holder by {} ms",
        (lapses_at - killed_at) / 1000
    );

    // The client retries with the same id; the other replica waits out the lease, then
    // paints: one model call after the kill, one cover stored.
    let cover = to_second
        .design_cover(order())
        .await
        .expect("the retry completes the order")
        .into_inner();
    // Only once the claim had lapsed: a live one is its holder's, dead or not.
    assert!(
        db::now_micros() >= lapses_at,
        "the retry took over the claim before it lapsed"
    );
    assert_eq!(provider_calls(&provider).await, 2);
    let count = |table: &str| format!("SELECT COUNT(*) FROM {table}");
    let covers: i64 = sqlx::query(&count("covers"))
        .fetch_one(&mut rows)
        .await
        .unwrap()
        .get(0);
    assert_eq!(covers, 1);

    // And it is the order's answer from now on: a third try is a replay.
    let replayed = to_second.design_cover(order()).await.unwrap().into_inner();
    assert_eq!(replayed.id, cover.id);
    assert_eq!(provider_calls(&provider).await, 2);
}

/// A provider whose every painting takes `takes`, counting those read to the end.
async fn slow_painter(takes: Duration) -> SlowProvider {
    SlowProvider::start(
        openai::image_reply_body(&openai::png(64, 64), "a lighthouse"),
        takes,
    )
    .await
}

/// Waits until `provider` has begun `count` replies.
async fn painting_begun(provider: &SlowProvider, count: usize) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while provider.begun() < count {
        assert!(tokio::time::Instant::now() < deadline, "never painted");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A replica whose clock runs 10 s ahead (libfaketime) sees the same lease as the
/// others: the database's clock decides, so a live holder's order is waited for, not
/// painted a second time.
#[tokio::test]
#[ignore = "needs PostgreSQL and libfaketime: bin/test runs this"]
async fn a_replica_whose_clock_runs_ahead_waits_for_a_live_claim() {
    let ca = TestCa::new("lease CA");
    let database = scratch_postgres().await;
    // Longer than a lease: the holder renews it while it paints.
    let provider = slow_painter(LEASE + Duration::from_secs(2)).await;
    let first = ServiceProcess::spawn(replica_command(&ca, &database, &provider.base_url()));
    let mut ahead = replica_command(&ca, &database, &provider.base_url());
    faketime(&mut ahead, "+10s");
    let ahead = ServiceProcess::spawn(ahead);
    let mut to_first = client(&ca, &first).await;
    let mut to_ahead = client(&ca, &ahead).await;

    let painting = tokio::spawn(async move { to_first.design_cover(order()).await });
    painting_begun(&provider, 1).await;
    let repeat = to_ahead
        .design_cover(order())
        .await
        .expect("the repeat waits for the first painting")
        .into_inner();
    let cover = painting
        .await
        .unwrap()
        .expect("the first painting")
        .into_inner();

    assert_eq!(repeat.id, cover.id, "the repeat is the first order's cover");
    assert_eq!(provider.begun(), 1, "the order was painted twice");
    assert_eq!(provider.completed(), 1);
}

/// A holder whose database stops answering for longer than a lease cannot prove its
/// claim: it stops painting and answers ABORTED before the lease lapses, and the retry
/// on another replica paints the order: one provider call runs to the end.
// Threads of its own: the proxy serves the holder while the test waits on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: bin/test runs this"]
async fn a_holder_that_cannot_renew_stops_painting_and_another_replica_takes_over() {
    let ca = TestCa::new("lease CA");
    let database = scratch_postgres().await;
    let proxy = StallingProxy::start(postgres_addr(&database)).await;
    let provider = slow_painter(LEASE + Duration::from_secs(4)).await;
    let holder = ServiceProcess::spawn(replica_command(
        &ca,
        &postgres_through(&database, proxy.addr()),
        &provider.base_url(),
    ));
    let other = ServiceProcess::spawn(replica_command(&ca, &database, &provider.base_url()));
    let mut to_holder = client(&ca, &holder).await;
    let mut to_other = client(&ca, &other).await;

    let abandoned = tokio::spawn(async move { to_holder.design_cover(order()).await });
    painting_begun(&provider, 1).await;
    proxy.stall();
    let retried = to_other
        .design_cover(order())
        .await
        .expect("the retry paints the order")
        .into_inner();

    let lost = abandoned
        .await
        .unwrap()
        .expect_err("the holder cannot have stored the cover");
    assert_eq!(lost.code(), Code::Aborted, "{lost:?}");
    assert!(lost.message().contains("lost its claim"), "{lost:?}");
    assert_eq!(provider.begun(), 2);
    assert_eq!(
        provider.completed(),
        1,
        "a painting nobody keeps was paid for"
    );
    proxy.resume();
    let replayed = to_other.design_cover(order()).await.unwrap().into_inner();
    assert_eq!(replayed.id, retried.id);
    assert_eq!(provider.begun(), 2);
}

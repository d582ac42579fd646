//! Hostile clients against the real Envoy, as `bin/up` runs it, with two keys: each
//! protection of the edge is tried the way an attacker would try it, and each check
//! is bounded in time. The figures each check sees are printed (`--nocapture`).

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use futures::StreamExt;
use superstar_proto::v1::{
    JamRequest, JamRevise, JamStart, jam_reply::Event, jam_request::Action,
    song_producer_client::SongProducerClient,
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::mpsc,
};
use tokio_rustls::{TlsConnector, client::TlsStream};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

use super::{
    connection_manager, rendered_gateway, repo,
    up::{ALICE, BOB, Up, gateway, gateway_channel, sh, system, with_key},
};

const MAX_CONNECTIONS: usize = 1000;
const MODEL_BURST: usize = 45;
const READ_BURST: usize = 5000;

/// The status line and headers curl saw (`-D -`), for `arguments`.
fn head(arguments: &str) -> (u16, String) {
    let output = sh(&format!(
        "curl -sS --cacert certs/ca.pem -o /dev/null -D - {arguments}"
    ));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    // The last status line: a `100 Continue` may come first.
    let status = text
        .lines()
        .rfind(|line| line.starts_with("HTTP/"))
        .and_then(|line| line.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "no status for {arguments}: {text}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    (status, text.to_ascii_lowercase())
}

/// The size of the bucket a response was counted in (`x-ratelimit-limit`).
fn bucket(headers: &str) -> usize {
    headers
        .lines()
        .find_map(|line| line.strip_prefix("x-ratelimit-limit:"))
        .and_then(|value| {
            value
                .trim()
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no x-ratelimit-limit: {headers}"))
}

/// A TLS client trusting the project's CA, offering HTTP/1.1.
fn tls() -> TlsConnector {
    tls_for(b"http/1.1")
}

/// The same, offering `alpn` only.
fn tls_for(alpn: &[u8]) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    let pem = std::fs::read(repo().join("certs/ca.pem")).unwrap();
    use rustls_pki_types::{CertificateDer, pem::PemObject};
    for cert in CertificateDer::pem_slice_iter(&pem) {
        roots.add(cert.unwrap()).unwrap();
    }
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    config.alpn_protocols = vec![alpn.to_vec()];
    TlsConnector::from(Arc::new(config))
}

async fn connect_tls(connector: &TlsConnector) -> std::io::Result<TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(gateway()).await?;
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    connector.connect(name, tcp).await
}

/// Whether the gateway still holds `stream` open: nothing to read, and no end.
async fn still_open(stream: &mut TlsStream<TcpStream>) -> bool {
    let mut byte = [0u8; 1];
    tokio::time::timeout(Duration::from_millis(300), stream.read(&mut byte))
        .await
        .is_err()
}

/// A service's metrics, from its own port (outside the gateway): the system's
/// `song_producer_metrics` or `cover_designer_metrics`.
async fn metrics(port: u16) -> String {
    superstar_system_tests::http_get(([127, 0, 0, 1], port).into(), "/metrics").await
}

fn admin_stat(name: &str) -> u64 {
    let output = sh(&format!(
        "curl -sS --http1.1 'http://127.0.0.1:9901/stats?filter=^{name}$'"
    ));
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no stat {name}: {text}"))
}

#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn hostile_clients_are_held_at_the_edge() {
    let data = tempfile::tempdir().unwrap();
    let up = Up::with_alice_and_bob(
        data.path(),
        &[
            ("READ_RATE_PER_SECOND", "1000"),
            ("READ_BURST", &READ_BURST.to_string()),
            ("MODEL_RATE_PER_SECOND", "1"),
            ("MODEL_BURST", &MODEL_BURST.to_string()),
            ("GATEWAY_MAX_CONNECTIONS", &MAX_CONNECTIONS.to_string()),
        ],
    );
    paths_are_canonical_before_routing_and_counting();
    headers_with_underscores_are_refused();
    every_client_reads_its_refusal_debian_curl_too();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        bodies_over_the_limit_are_refused_before_any_service_sees_them().await;
        slow_headers_are_cut_off().await;
        idle_connections_are_capped_while_an_established_client_keeps_working().await;
        one_connection_is_held_to_its_stream_limit().await;
        rapid_resets_close_no_connection_others_share().await;
        open_jams_leave_others_reads_working_and_revisions_pay().await;
        made_up_methods_add_no_metric_series().await;
    });
    up.stop();
}

fn paths_are_canonical_before_routing_and_counting() {
    let key = format!("-H 'x-api-key: {ALICE}'");
    for path in [
        "/v1/songs",
        "//v1/songs",
        "/v1/./songs",
        "/v1/albums/../songs",
    ] {
        let (status, headers) = head(&format!("{key} 'https://localhost:8443{path}'"));
        assert_eq!(status, 200, "{path}: {headers}");
        assert_eq!(bucket(&headers), READ_BURST, "{path} is a read");
    }
    let album = r#"-H 'content-type: application/json' -d '{"genre":"pop","theme":"paths","songsCount":1}'"#;
    for path in ["//v1/albums", "/v1/./albums"] {
        let (status, headers) = head(&format!("{key} {album} 'https://localhost:8443{path}'"));
        assert_eq!(status, 200, "{path}: {headers}");
        assert_eq!(bucket(&headers), MODEL_BURST, "{path} is a model call");
    }
    // An encoded slash or backslash is refused, whatever it would have spelled: decoded,
    // /v1/albums/%5C would read as /v1/albums/, the list of albums (schemathesis found it).
    for path in [
        "/v1%2Fsongs",
        "/v1%2fsongs",
        "/v1/albums/%5C",
        "/v1/albums/%2F",
        "/v1/songs/a%5cb",
    ] {
        let output = sh(&format!(
            "curl -sS --cacert certs/ca.pem -w '\\n%{{http_code}}' {key} 'https://localhost:8443{path}'"
        ));
        let text = String::from_utf8_lossy(&output.stdout);
        let (body, status) = text.rsplit_once('\n').expect("a status line");
        assert_eq!(status, "400", "{path}: {body}");
        let error: serde_json::Value = serde_json::from_str(body).expect("a JSON error");
        assert_eq!(error["code"], 3, "{path}: {body}");
        assert!(
            error["message"].as_str().unwrap().contains("encoded slash"),
            "{body}"
        );
    }
    println!(
        "paths: 4 spellings of /v1/songs in the read bucket, 2 of /v1/albums in the model bucket, 5 with an encoded slash refused"
    );
}

fn headers_with_underscores_are_refused() {
    let (status, _) = head(&format!(
        "--http1.1 -H 'x_api_key: {ALICE}' https://localhost:8443/v1/songs"
    ));
    assert_eq!(status, 400);
    let (status, _) = head(&format!(
        "--http1.1 -H 'x-api-key: {ALICE}' -H 'x_superstar_client: bob' https://localhost:8443/v1/songs"
    ));
    assert_eq!(status, 400, "an underscore alias of the client header");
    println!("underscores: 400");
}

/// Debian 12's curl (7.88) reports a framing error, and no status, when Envoy answers
/// before the body is read and resets the stream curl is still sending on (newer
/// HTTP/2 clients read the answer). So a JSON request's body is read first, up to
/// 64 KiB, more than any valid request: a refusal of a request that size reaches every
/// client. A larger body is refused (413) while it is still coming, which this curl
/// reads over HTTP/1.1 only (over HTTP/2 it stops sending at the reset and fails with
/// exit 92, whatever the server sends; curl 8 reads it). The machine's own curl, 20
/// tries of each.
fn every_client_reads_its_refusal_debian_curl_too() {
    let version = sh("curl --version");
    let version = String::from_utf8_lossy(&version.stdout);
    let version = version.split_whitespace().nth(1).unwrap_or("?").to_owned();
    let alice = format!("-H 'x-api-key: {ALICE}'");
    let tries = |size: usize, key: &str, protocol: &str| {
        let body = tempfile::NamedTempFile::new().unwrap();
        let description = "x".repeat(size);
        std::fs::write(body.path(), format!(r#"{{"description":"{description}"}}"#)).unwrap();
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for _ in 0..20 {
            let output = sh(&format!(
                "curl -sS {protocol} --cacert certs/ca.pem -o /dev/null -w '%{{http_code}}' {key} \
                 -H 'content-type: application/json' --data-binary @{} https://localhost:8443/v1/covers",
                body.path().display()
            ));
            let status = String::from_utf8_lossy(&output.stdout).into_owned();
            let seen_as = match output.status.code() {
                Some(0) => status,
                code => format!("{status}, curl exit {code:?}"),
            };
            *seen.entry(seen_as).or_default() += 1;
        }
        println!(
            "curl {version} {protocol}, {} KiB body, key {key:?}: {seen:?}",
            size / 1024
        );
        seen
    };
    let every = |status: &str| std::collections::BTreeMap::from([(status.to_owned(), 20)]);
    for key in ["", "-H 'x-api-key: not-a-key'"] {
        assert_eq!(
            tries(1024, key, "--http2"),
            every("401"),
            "curl {version}, 1 KiB, {key:?}"
        );
    }
    for key in ["", "-H 'x-api-key: not-a-key'", alice.as_str()] {
        assert_eq!(
            tries(200 * 1024, key, "--http1.1"),
            every("413"),
            "curl {version}, 200 KiB, {key:?}"
        );
        let over_http2 = tries(200 * 1024, key, "--http2");
        assert!(
            over_http2
                .keys()
                .all(|seen| seen == "413" || seen == "000, curl exit Some(92)"),
            "curl {version}, 200 KiB over HTTP/2, {key:?}: {over_http2:?}"
        );
    }
}

async fn bodies_over_the_limit_are_refused_before_any_service_sees_them() {
    let designed = async || {
        superstar_system_tests::sample(
            &metrics(system().ports.cover_designer_metrics).await,
            "grpc_server_started_total",
            &["method=\"DesignCover\""],
        )
    };
    let before = designed().await;
    let body = tempfile::NamedTempFile::new().unwrap();
    let description = "x".repeat(2 * 1024 * 1024);
    std::fs::write(body.path(), format!(r#"{{"description":"{description}"}}"#)).unwrap();
    // HTTP/1.1: curl offers `Expect: 100-continue`, so the 413 comes before the body is
    // sent. (Over HTTP/2 Envoy answers 413 and resets the stream the client is still
    // sending on, which curl reports as a framing error.)
    let post = format!(
        "--http1.1 -H 'content-type: application/json' --data-binary @{} https://localhost:8443/v1/covers",
        body.path().display()
    );
    let (status, _) = head(&format!("-H 'x-api-key: {ALICE}' {post}"));
    assert_eq!(status, 413);
    let (status, _) = head(&post);
    assert_eq!(
        status, 413,
        "no key: the same limit, before the key is read"
    );
    assert_eq!(designed().await, before, "no cover was asked for");
    println!("bodies: 2 MiB is 413 with a key and without; the cover designer saw neither");
}

async fn slow_headers_are_cut_off() {
    let mut stream = connect_tls(&tls()).await.unwrap();
    stream
        .write_all(b"GET /v1/songs HTTP/1.1\r\nhost: localhost\r\n")
        .await
        .unwrap();
    let started = Instant::now();
    let header =
        b"x-slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    let mut reply = Vec::new();
    'sending: for byte in header.iter().cycle() {
        if stream.write_all(&[*byte]).await.is_err() {
            break;
        }
        // Between bytes, see whether the gateway has given up on us.
        let mut buffer = [0u8; 512];
        match tokio::time::timeout(Duration::from_millis(500), stream.read(&mut buffer)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break 'sending,
            Ok(Ok(read)) => reply.extend_from_slice(&buffer[..read]),
            Err(_) => {}
        }
        assert!(started.elapsed() < Duration::from_secs(30), "never cut off");
    }
    let elapsed = started.elapsed();
    println!(
        "slowloris: cut off after {:.1} s ({:?})",
        elapsed.as_secs_f64(),
        String::from_utf8_lossy(reply.split(|b| *b == b'\r').next().unwrap_or_default())
    );
    assert!(
        elapsed >= Duration::from_secs(8) && elapsed < Duration::from_secs(15),
        "request_headers_timeout is 10 s: cut off after {elapsed:?}"
    );
}

async fn idle_connections_are_capped_while_an_established_client_keeps_working() {
    let established = gateway_channel().await;
    let mut health = HealthClient::new(established.clone());
    health
        .check(with_key(BOB, HealthCheckRequest::default()))
        .await
        .expect("bob's first read");

    let connector = tls();
    let attempts = 2 * MAX_CONNECTIONS;
    // A connection past the ceiling is closed, or never answered: give each 5 s.
    let opened = futures::stream::iter(0..attempts)
        .map(|_| {
            let connector = connector.clone();
            async move {
                tokio::time::timeout(Duration::from_secs(5), connect_tls(&connector))
                    .await
                    .ok()?
                    .ok()
            }
        })
        .buffer_unordered(500)
        .filter_map(|stream| async move { stream })
        .collect::<Vec<_>>()
        .await;
    let handshakes = opened.len();
    // Held until the end of the check: they are the flood.
    let flood: Vec<_> = futures::future::join_all(
        opened
            .into_iter()
            .map(|mut stream| async { still_open(&mut stream).await.then_some(stream) }),
    )
    .await
    .into_iter()
    .flatten()
    .collect();
    let open = flood.len();
    println!(
        "connections: {attempts} attempted, {handshakes} handshakes, {open} held open (ceiling {MAX_CONNECTIONS})"
    );
    assert!(open <= MAX_CONNECTIONS, "{open} open connections");
    assert!(
        open >= MAX_CONNECTIONS / 2,
        "the ceiling is far above {open}"
    );
    let started = Instant::now();
    for _ in 0..20 {
        health
            .check(with_key(BOB, HealthCheckRequest::default()))
            .await
            .expect("the established client keeps working");
    }
    println!(
        "connections: bob's 20 reads during the flood took {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );
    drop(flood);
}

async fn one_connection_is_held_to_its_stream_limit() {
    let connection = gateway_channel().await;
    let answered = Arc::new(AtomicUsize::new(0));
    let streams = 1000;
    // Two clients share the connection: each stays within its own share of open
    // streams (the services' MAX_STREAMS_PER_CLIENT), so the connection's limit binds.
    let watches: Vec<_> = (0..streams)
        .map(|n| {
            let mut health = HealthClient::new(connection.clone());
            let answered = Arc::clone(&answered);
            let key = [ALICE, BOB][n % 2];
            tokio::spawn(async move {
                let mut watch = health
                    .watch(with_key(key, HealthCheckRequest::default()))
                    .await?
                    .into_inner();
                watch.message().await?;
                answered.fetch_add(1, Ordering::SeqCst);
                // Held open until the check ends.
                watch.message().await
            })
        })
        .collect();
    let limit =
        connection_manager(&rendered_gateway())["http2_protocol_options"]["max_concurrent_streams"]
            .as_u64()
            .unwrap() as usize;
    let deadline = Instant::now() + Duration::from_secs(30);
    while answered.load(Ordering::SeqCst) < limit {
        assert!(
            Instant::now() < deadline,
            "only {} streams answered",
            answered.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let active = admin_stat("http.gateway.downstream_rq_active");
    // Nothing more opens while the first ones are held.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let held = answered.load(Ordering::SeqCst);
    println!(
        "streams: {streams} opened on one connection, {held} answered, {active} active in Envoy (limit {limit})"
    );
    assert_eq!(held, limit);
    assert!(active as usize <= limit + 1, "{active} requests active");
    for watch in watches {
        watch.abort();
    }
}

/// HTTP/2's rapid reset (CVE-2023-44487): alice opens health watches and cancels each at
/// once. Envoy forwards every one to the song producer, on connections it shares with
/// every other client's watches; were the song producer to answer with GOAWAY (h2 does,
/// by default, after 20 streams reset before it accepted them), bob's open watches
/// would be cut.
async fn rapid_resets_close_no_connection_others_share() {
    const STAT: &str = "cluster.song_producer_probes.upstream_cx_destroy_remote";
    // Bob's watches on a few connections, so that every Envoy worker's pool carries one.
    let mut bobs = Vec::new();
    for _ in 0..4 {
        let mut watch = HealthClient::new(gateway_channel().await)
            .watch(with_key(BOB, HealthCheckRequest::default()))
            .await
            .expect("bob's watch")
            .into_inner();
        watch.message().await.expect("the first status");
        bobs.push(watch);
    }
    let closed_before = admin_stat(STAT);

    let resets = 2000;
    let (mut sent, mut connections) = (0, 0);
    // Envoy itself closes a connection where most streams end this early (its premature
    // reset check): alice reconnects and goes on.
    while sent < resets {
        let stream = connect_tls(&tls_for(b"h2")).await.unwrap();
        let Ok((mut client, connection)) = h2::client::handshake(stream).await else {
            continue;
        };
        connections += 1;
        let connection = tokio::spawn(connection);
        while sent < resets {
            let Ok(ready) = client.ready().await else {
                break;
            };
            client = ready;
            let request =
                http::Request::post(format!("{}/grpc.health.v1.Health/Watch", system().url()))
                    .header("content-type", "application/grpc")
                    .header("te", "trailers")
                    .header("x-api-key", ALICE)
                    .body(())
                    .unwrap();
            let Ok((_response, mut body)) = client.send_request(request, false) else {
                break;
            };
            body.send_reset(h2::Reason::CANCEL);
            sent += 1;
        }
        connection.abort();
    }
    let closed = admin_stat(STAT) - closed_before;
    let mut open = 0;
    for watch in &mut bobs {
        // A watch sends nothing while the status holds: a cut one ends at once.
        let next = tokio::time::timeout(Duration::from_millis(200), watch.message()).await;
        assert!(next.is_err(), "bob's watch ended: {next:?}");
        open += 1;
    }
    println!(
        "rapid reset: {sent} streams opened and cancelled over {connections} connection(s); \
         the song producer closed {closed} connections; bob's {open} watches are still open"
    );
    assert_eq!(
        closed, 0,
        "the song producer closed a connection Envoy shares"
    );
}

fn start(theme: &str) -> JamRequest {
    JamRequest {
        action: Some(Action::Start(JamStart {
            genre: "punk".into(),
            theme: theme.into(),
        })),
    }
}

fn revise() -> JamRequest {
    JamRequest {
        action: Some(Action::Revise(JamRevise {
            instruction: "louder".into(),
        })),
    }
}

async fn open_jams_leave_others_reads_working_and_revisions_pay() {
    let connection = gateway_channel().await;
    let jams: usize = 40;
    let mut sessions = Vec::new();
    for n in 0..jams {
        let (requests, outbound) = mpsc::channel(4);
        let replies = SongProducerClient::new(connection.clone())
            .jam(with_key(ALICE, ReceiverStream::new(outbound)))
            .await
            .expect("a Jam session");
        requests.send(start(&format!("jam {n}"))).await.unwrap();
        sessions.push((requests, replies.into_inner()));
    }
    // Every first take finishes while bob reads.
    let bob = tokio::task::spawn_blocking(|| {
        (0..20)
            .map(|_| {
                head(&format!(
                    "-H 'x-api-key: {BOB}' https://localhost:8443/v1/songs"
                ))
                .0
            })
            .collect::<Vec<_>>()
    });
    for (_, replies) in &mut sessions {
        loop {
            let reply = replies.message().await.expect("a take").expect("open");
            if matches!(reply.event, Some(Event::Song(_))) {
                break;
            }
        }
    }
    let bob = bob.await.unwrap();
    assert!(
        bob.iter().all(|status| *status == 200),
        "bob's reads: {bob:?}"
    );

    // Every session asks for another take at once: far more than the budget left.
    let asked = tokio::time::Instant::now();
    for (requests, _) in &sessions {
        requests.send(revise()).await.unwrap();
    }
    let (mut revised, mut refused) = (0, 0);
    for (_, replies) in &mut sessions {
        loop {
            match replies.message().await {
                Ok(Some(reply)) if matches!(reply.event, Some(Event::Song(_))) => {
                    revised += 1;
                    break;
                }
                Ok(Some(_)) => continue,
                Ok(None) => panic!("a session ended without a status"),
                Err(status) => {
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    assert!(
                        status.message().contains("retry in"),
                        "{}",
                        status.message()
                    );
                    refused += 1;
                    break;
                }
            }
        }
    }
    println!(
        "jams: {jams} open, bob's 20 reads all 200; {revised} revisions made, {refused} refused"
    );
    // What the budget held (10), and what it refilled (1 a second) while the takes were
    // written: however slow the machine, the rest were refused.
    let refilled = asked.elapsed().as_secs() as usize + 1;
    assert!(refused > 0, "no take of {jams} was refused");
    assert!(
        refused >= jams.saturating_sub(10 + refilled),
        "{refused} of {jams} refused, {refilled} calls refilled"
    );
}

async fn made_up_methods_add_no_metric_series() {
    let series = |text: &str| {
        text.lines()
            .filter(|line| line.starts_with("grpc_server_started_total{"))
            .count()
    };
    let before = metrics(system().ports.song_producer_metrics).await;
    let connection = gateway_channel().await;
    let calls = 1000;
    let codes: Vec<Code> = futures::stream::iter(0..calls)
        .map(|n| {
            let mut grpc = tonic::client::Grpc::new(connection.clone());
            async move {
                grpc.ready().await.unwrap();
                let path = http::uri::PathAndQuery::try_from(format!(
                    "/superstar.v1.SongProducer/Made{n:x}Up{}",
                    n * 7919
                ))
                .unwrap();
                let codec = tonic_prost::ProstCodec::<(), ()>::default();
                match grpc.unary(with_key(ALICE, ()), path, codec).await {
                    Ok(_) => Code::Ok,
                    Err(status) => status.code(),
                }
            }
        })
        .buffer_unordered(50)
        .collect()
        .await;
    assert!(
        codes.iter().all(|code| *code == Code::Unimplemented),
        "{:?}",
        &codes[..5]
    );
    let after = metrics(system().ports.song_producer_metrics).await;
    println!(
        "metrics: {calls} made-up methods; series {} before, {} after",
        series(&before),
        series(&after)
    );
    assert!(series(&after) <= series(&before) + 1, "{after}");
    assert!(!after.contains("Made"), "{after}");
}

//! Who a call is attributed to, and what anonymous visitors share, through the real
//! Envoy: a client's name comes from its key alone, never from a header it sends, and
//! the pages served without a key are limited per source address.

use std::time::{Duration, Instant};

use serde_json::Value;
use superstar_system_tests::{http_get, sample};

use super::up::{ALICE, Up, sh, system};

/// The access log's line for the request whose path (and query) is `path`, polled for:
/// Envoy flushes its access log every half second under bin/up.
fn access_line(path: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = system()
            .log("envoy")
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .find(|line| line["path"] == path);
        match found {
            Some(line) => return line,
            None if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            None => panic!("Envoy's access log has no line for {path}"),
        }
    }
}

/// curl's status for `arguments`, the body thrown away.
fn status(arguments: &str) -> u16 {
    let output = sh(&format!(
        "curl -sS -o /dev/null --cacert certs/ca.pem {arguments} -w '%{{http_code}}'"
    ));
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("curl {arguments}: {output:?}"))
}

#[test]
#[ignore = "needs Envoy and the system's binaries: bin/test runs this"]
fn a_forged_client_header_is_never_the_client() {
    let data = tempfile::tempdir().unwrap();
    let up = Up::with_alice_and_bob(data.path(), &[]);
    let url = up.system.url();
    let forged = "-H 'x-superstar-client: bob'";

    // Alice's key, a header naming bob: a model call and a read, over JSON.
    let lyrics = format!(
        "{forged} -H 'x-api-key: {ALICE}' {url}/v1/lyrics:stream -d '{{\"genre\": \"punk\", \"theme\": \"forgery\"}}'"
    );
    assert_eq!(status(&lyrics), 200);
    assert_eq!(
        status(&format!(
            "{forged} -H 'x-api-key: {ALICE}' '{url}/v1/songs?page_size=7'"
        )),
        200
    );
    // No key, the same header: refused, and a page that needs no key.
    assert_eq!(
        status(&format!("{forged} '{url}/v1/songs?page_size=8'")),
        401
    );
    assert_eq!(status(&format!("{forged} '{url}/?visit=forged'")), 200);

    assert_eq!(access_line("/v1/lyrics:stream")["client"], "alice");
    assert_eq!(access_line("/v1/songs?page_size=7")["client"], "alice");
    for anonymous in ["/v1/songs?page_size=8", "/?visit=forged"] {
        let line = access_line(anonymous);
        assert_ne!(line["client"], "bob", "{line}");
        assert!(
            line["client"].is_null() || line["client"] == "-",
            "an anonymous call has no client: {line}"
        );
    }
    // The song producer counted alice's model call as hers, and nothing as bob's.
    let metrics = tokio::runtime::Runtime::new().unwrap().block_on(http_get(
        ([127, 0, 0, 1], up.system.ports.song_producer_metrics).into(),
        "/metrics",
    ));
    assert!(
        sample(
            &metrics,
            "superstar_model_calls_total",
            &["client=\"alice\""]
        ) >= 1.0,
        "{metrics}"
    );
    assert_eq!(
        sample(&metrics, "superstar_model_calls_total", &["client=\"bob\""]),
        0.0,
        "{metrics}"
    );
    up.stop();
}

#[test]
#[ignore = "needs Envoy and the system's binaries: bin/test runs this"]
fn one_address_flooding_the_pages_leaves_them_to_everyone_else() {
    let data = tempfile::tempdir().unwrap();
    // Small buckets: a flood is a few requests.
    let up = Up::with_alice_and_bob(
        data.path(),
        &[("READ_RATE_PER_SECOND", "1"), ("READ_BURST", "5")],
    );
    let url = up.system.url();
    for page in ["/", "/openapi.json"] {
        let flood: Vec<u16> = (0..20)
            .map(|_| status(&format!("--interface 127.0.0.2 {url}{page}")))
            .collect();
        assert!(
            flood.contains(&429),
            "the flood from 127.0.0.2 is limited: {flood:?}"
        );
        let others: Vec<u16> = (0..3)
            .map(|_| status(&format!("--interface 127.0.0.1 {url}{page}")))
            .collect();
        assert_eq!(
            others,
            [200, 200, 200],
            "{page} for another address after the flood"
        );
    }
    up.stop();
}

//! Per-client rate limits through the real Envoy, with two keys: one client's flood
//! empties its own bucket, not the other's.

use super::up::{Up, curl};

const ALICE: &str = "alice-key-0123456789abcdef";
const BOB: &str = "bob-key-0123456789abcdef";

#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn one_clients_flood_leaves_anothers_bucket_full() {
    let data = tempfile::tempdir().unwrap();
    let keys = format!("alice:{ALICE},bob:{BOB}");
    // Small read buckets, so that a flood is a few requests: 5 saved up, 1 a second.
    let up = Up::start_with(
        data.path(),
        &[
            ("SUPERSTAR_API_KEYS", &keys),
            ("READ_RATE_PER_SECOND", "1"),
            ("READ_BURST", "5"),
        ],
    );
    let list = |key: &str| {
        curl(&format!(
            "-H 'x-api-key: {key}' https://localhost:8443/v1/songs"
        ))
        .1
    };
    let alice: Vec<u16> = (0..20).map(|_| list(ALICE)).collect();
    assert!(alice.contains(&429), "alice's flood is limited: {alice:?}");
    let bob: Vec<u16> = (0..3).map(|_| list(BOB)).collect();
    assert_eq!(bob, [200, 200, 200], "bob's reads after alice's flood");
    up.stop();
}

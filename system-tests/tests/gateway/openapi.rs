//! The OpenAPI document through the real gateway: served without a key, the committed
//! copy, valid; a client generated from it makes an album; and the JSON API fuzzed from
//! it by schemathesis, first with the limits raised (the API measured), then with the
//! real ones (the documented 429).
//!
//! Every check runs, but for what the document cannot say, which
//! `clients/openapi/schemathesis.toml` lists: the draft method QUERY (Envoy's codec
//! answers 400 before any filter runs), an opaque page token, and a stream's body,
//! newline-delimited JSON, whose lines are checked against the document here instead
//! (`clients/openapi/stream_lines.py`).

use super::{
    repo,
    up::{Up, ok, sh},
};

/// schemathesis against the gateway, every check, with `arguments` added: it must find
/// no failure (its exit status says so).
fn schemathesis(arguments: &str) {
    let output = sh(&format!(
        ".venv/bin/schemathesis --config-file clients/openapi/schemathesis.toml \
         run docs/openapi.json --url https://localhost:8443 \
         --tls-verify certs/ca.pem -H \"x-api-key: $SUPERSTAR_KEY\" \
         --seed 1 --no-color --request-timeout 60 {arguments}"
    ));
    let report = String::from_utf8_lossy(&output.stdout).into_owned();
    println!("{report}");
    assert!(
        output.status.success(),
        "schemathesis found failures:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
#[ignore = "needs Envoy, the OpenAPI tools and release binaries: bin/test runs this"]
fn the_json_api_keeps_to_its_openapi_document() {
    let data = tempfile::tempdir().unwrap();
    let raised = [
        ("MODEL_RATE_PER_SECOND", "10000"),
        ("MODEL_BURST", "10000"),
        ("READ_RATE_PER_SECOND", "10000"),
        ("READ_BURST", "10000"),
    ];
    let up = Up::start_with(data.path(), &raised);

    // Served without a key, as committed, and valid.
    let served_at = data.path().join("served.json");
    let headers = ok(&format!(
        "curl -sS --cacert certs/ca.pem -o {} -D - https://localhost:8443/openapi.json",
        served_at.display()
    ));
    assert!(headers.starts_with("HTTP/2 200"), "{headers}");
    assert!(
        headers.contains("content-type: application/json"),
        "{headers}"
    );
    let served = std::fs::read_to_string(&served_at).unwrap();
    assert!(
        served == std::fs::read_to_string(repo().join("docs/openapi.json")).unwrap(),
        "the gateway serves the committed document"
    );
    ok(&format!(
        ".venv/bin/openapi-spec-validator {}",
        served_at.display()
    ));

    // Every operation, positive and negative inputs, a bounded number of examples each:
    // no server error; every status, content type, header and reply body one the
    // document lists; valid requests taken and invalid ones refused.
    schemathesis(
        "--phases coverage,fuzzing --exclude-operation-id StreamAlbum \
         --exclude-operation-id GenerateLyrics --max-examples 30 --max-time 150",
    );
    schemathesis(
        "--phases coverage,fuzzing --include-operation-id StreamAlbum \
         --include-operation-id GenerateLyrics --max-examples 30 --max-time 60",
    );
    // Sequences of calls, each using what an earlier one answered (an album's id, then
    // its songs' and cover's), with links schemathesis infers from the document.
    schemathesis("--phases stateful --max-time 90");
    // The streams' lines, each a message the document describes.
    for (operation, path, body, messages) in [
        (
            "StreamAlbum",
            "albums:stream",
            r#"{"genre": "jazz", "theme": "rain", "songsCount": 2}"#,
            "4",
        ),
        (
            "GenerateLyrics",
            "lyrics:stream",
            r#"{"genre": "jazz", "theme": "rain", "songsCount": 3}"#,
            "3",
        ),
    ] {
        let checked = ok(&format!(
            "set -o pipefail; curl -sS --fail-with-body --cacert certs/ca.pem -H \"x-api-key: $SUPERSTAR_KEY\" \
             https://localhost:8443/v1/{path} -d '{body}' | \
             .venv/bin/python clients/openapi/stream_lines.py docs/openapi.json {operation}"
        ));
        assert_eq!(checked.trim(), messages, "{operation}");
    }

    // A client generated from the document makes an album.
    let client = data.path().join("client");
    ok(&format!(
        "mkdir -p {0} && .venv/bin/openapi-python-client generate --path docs/openapi.json \
         --meta none --output-path {0}/superstar_client >/dev/null",
        client.display()
    ));
    let said = ok(&format!(
        "cd {} && SUPERSTAR_KEY=$SUPERSTAR_KEY {}/.venv/bin/python {}/clients/openapi/album.py \
         --gateway https://localhost:8443 --genre synthwave --theme 'night drive' --ca {}/certs/ca.pem",
        client.display(),
        repo().display(),
        repo().display(),
        repo().display()
    ));
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 3, "{said}");
    assert!(
        lines[0].starts_with("song 1: ") && lines[2].starts_with("album: "),
        "{said}"
    );
    up.stop();

    // The real limits: the model class's burst of 10 is spent within the run, and the
    // 429 that follows is one the document lists.
    let data = tempfile::tempdir().unwrap();
    let up = Up::start_with(data.path(), &[]);
    schemathesis("--include-operation-id DesignCover --max-examples 40 --max-time 60");
    let limited = ok("curl -sS --http1.1 'http://127.0.0.1:9901/stats?filter=rate_limited$'");
    let count: u64 = limited
        .lines()
        .filter_map(|line| line.rsplit(": ").next()?.trim().parse::<u64>().ok())
        .sum();
    assert!(count > 0, "the run met the rate limit: {limited}");
    up.stop();
}

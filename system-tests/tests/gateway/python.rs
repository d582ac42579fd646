//! The Python client (`clients/python/`): stubs generated from `proto/` with
//! grpcio-tools, an album and a lyrics stream over gRPC, and the JSON example with httpx,
//! against the whole system through Envoy.

use std::process::Command;

use super::{
    repo,
    up::{KEY, Up, bash, curl, ok, prints_songs_as_written},
};

/// `.venv/bin/python clients/python/SCRIPT ARGS`, as the client's README runs it, with
/// the gateway of the system this test runs (the scripts' default is the default port).
fn python(arguments: &str) -> String {
    let port = super::up::system().ports.gateway;
    let (script, arguments) = arguments.split_once(' ').expect("a script and arguments");
    let gateway = match script {
        "example.py" => format!("--endpoint localhost:{port}"),
        "json_example.py" => format!("--base https://localhost:{port}"),
        other => panic!("which option names the gateway for {other}?"),
    };
    format!(".venv/bin/python clients/python/{script} {gateway} {arguments}")
}

#[test]
#[ignore = "needs Envoy, grpcurl, the Python client's packages and release binaries: bin/test runs this"]
fn the_python_client_makes_an_album_and_streams_lyrics() {
    let data = tempfile::tempdir().unwrap();
    let _up = Up::start_with(data.path(), &[]);

    // --- gRPC: StreamAlbum, each song as written, then the stored album -----------------
    let said = ok(&python(
        "example.py album --genre synthwave --theme 'night drive' --songs 2",
    ));
    let lines: Vec<&str> = said.lines().collect();
    assert_eq!(lines.len(), 4, "{said}");
    assert!(
        lines[0].starts_with("song 1: ") && lines[1].starts_with("song 2: "),
        "{said}"
    );
    assert!(lines[2].starts_with("cover: "), "{said}");
    let album_id = lines[3]
        .strip_prefix("album: ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("{said}"));
    let (album, status) = curl(&format!(
        "{KEY} https://localhost:8443/v1/albums/{album_id}"
    ));
    assert_eq!(status, 200, "{album}");
    assert_eq!(album["songs"].as_array().unwrap().len(), 2);
    assert_eq!(
        album["songs"][0]["title"].as_str().unwrap(),
        lines[0].strip_prefix("song 1: ").unwrap()
    );

    // --- gRPC: GenerateLyrics, the first song out before the last is written ------------
    prints_songs_as_written(
        bash(&python(
            "example.py lyrics --genre 'polish disco polo' --theme 'summer at the lake' --songs 3",
        )),
        3,
    );

    // --- JSON with httpx -------------------------------------------------------------------
    let said = ok(&python(
        "json_example.py --genre 'heavy metal' --theme 'dragons over the city'",
    ));
    assert!(said.starts_with("album: "), "{said}");
    assert!(
        said.contains("first song: {'title': ") && said.contains("'genre': 'heavy metal'"),
        "the masked read: {said}"
    );
    assert!(!said.contains("'lyrics'"), "masked out: {said}");

    // --- A wrong key: UNAUTHENTICATED, said in one line ------------------------------------
    let output = Command::new("bash")
        .args(["-c", &python("example.py album --genre jazz --theme rain")])
        .current_dir(repo())
        .env("SUPERSTAR_KEY", "not-a-key-0123456789")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{said}");
    assert!(said.starts_with("example: UNAUTHENTICATED"), "{said}");
}

//! `superstar`, the command-line client, against the whole system through Envoy, run
//! as the README runs it: from a checkout (its `.env` key and `certs/ca.pem` found on
//! their own), piped, and `jam` on a pseudo-terminal.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{
    repo,
    up::{ALICE, BOB, Up, prints_songs_as_written},
};

/// The `superstar` binary bin/test builds, with the profile it builds the system's with.
fn superstar() -> PathBuf {
    let binary = super::built("superstar");
    assert!(
        binary.is_file(),
        "{} is missing: bin/test builds it (cargo build -p superstar-cli)",
        binary.display()
    );
    binary
}

/// `superstar`, pointed at the system this process runs when one does (its default is
/// the default port).
fn superstar_command() -> Command {
    let mut command = Command::new(superstar());
    if let Some(system) = super::up::running() {
        command.env("SUPERSTAR_ENDPOINT", system.url());
    }
    command
}

/// A folder standing for a user's checkout: the repository's `.env` and `certs/`,
/// linked, so that what the CLI writes stays out of the repository.
fn checkout() -> tempfile::TempDir {
    let folder = tempfile::tempdir().unwrap();
    for name in [".env", "certs"] {
        std::os::unix::fs::symlink(repo().join(name), folder.path().join(name)).unwrap();
    }
    folder
}

/// `superstar ARGS` in `folder`, piped.
fn run_in(folder: &Path, args: &[&str]) -> Output {
    superstar_command()
        .args(args)
        .current_dir(folder)
        .env_remove("SUPERSTAR_KEY")
        .env_remove("SUPERSTAR_CA")
        .output()
        .unwrap()
}

#[track_caller]
fn succeeds(folder: &Path, args: &[&str]) -> String {
    let output = run_in(folder, args);
    assert!(
        output.status.success(),
        "superstar {args:?}: {}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// One line on stderr, the given exit code.
#[track_caller]
fn fails_with(output: &Output, code: i32) -> String {
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(code), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1, "one line: {said}");
    assert!(said.starts_with("superstar: "), "{said}");
    said
}

/// The width and height in a PNG's header.
fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let number = |at: usize| u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap());
    (number(16), number(20))
}

/// The README's quick-start line, run as written.
fn readme_album_command() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    readme
        .lines()
        .find(|line| line.starts_with("superstar album "))
        .expect("the README's quick start shows `superstar album …`")
        .to_owned()
}

#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn the_cli_works_through_envoy() {
    let data = tempfile::tempdir().unwrap();
    let _up = Up::start_with(data.path(), &[]);
    let checkout = checkout();
    let folder = checkout.path();

    assert_eq!(succeeds(folder, &["health"]).trim(), "SERVING");

    // --- The README's album: each song shown as written, then Markdown and a PNG -------
    let line = readme_album_command();
    let output = Command::new("bash")
        .args(["-c", &line])
        .env("SUPERSTAR_ENDPOINT", super::up::system().url())
        .current_dir(folder)
        .env(
            "PATH",
            format!(
                "{}:{}",
                superstar().parent().unwrap().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .env_remove("SUPERSTAR_KEY")
        .output()
        .unwrap();
    let progress = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{line}: {progress}");
    let songs: Vec<&str> = progress
        .lines()
        .filter(|line| line.starts_with("song "))
        .collect();
    assert_eq!(
        songs.len(),
        2,
        "plain lines when piped, one per song: {progress}"
    );
    assert!(progress.contains("cover: "), "{progress}");
    let out = line
        .split("--out ")
        .nth(1)
        .map(|rest| rest.split_whitespace().next().unwrap().to_owned())
        .expect("the README names the folder");
    let markdown = std::fs::read_to_string(folder.join(&out).join("album.md")).unwrap();
    assert!(markdown.starts_with("# "), "{markdown}");
    assert_eq!(markdown.matches("\n## ").count(), 2, "{markdown}");
    assert!(markdown.contains("### Chorus"), "{markdown}");
    assert!(markdown.contains("![cover](cover.png)"));
    let cover = std::fs::read(folder.join(&out).join("cover.png")).unwrap();
    assert_eq!(png_size(&cover), (512, 512));

    // --- --json: the album as the API prints it, then the reads ------------------------
    let album: Value = serde_json::from_str(&succeeds(
        folder,
        &[
            "--json",
            "album",
            "--genre",
            "synthwave",
            "--theme",
            "night drive",
            "--songs",
            "2",
            "--out",
            "night",
        ],
    ))
    .unwrap();
    assert_eq!(album["songs"].as_array().unwrap().len(), 2);
    let album_id = album["id"].as_str().unwrap();
    let song_id = album["songs"][0]["id"].as_str().unwrap();
    let cover_id = album["cover"]["id"].as_str().unwrap();

    let listed: Value =
        serde_json::from_str(&succeeds(folder, &["--json", "songs", "list", "--all"])).unwrap();
    assert!(listed["songs"].as_array().unwrap().len() >= 4, "{listed}");
    let text = succeeds(folder, &["songs", "list", "--genre", "synthwave"]);
    assert!(
        text.lines().all(|line| line.ends_with("(synthwave)")) && text.contains(song_id),
        "{text}"
    );

    let masked: Value = serde_json::from_str(&succeeds(
        folder,
        &[
            "--json",
            "songs",
            "get",
            song_id,
            "--fields",
            "title,lyrics",
        ],
    ))
    .unwrap();
    let mut fields: Vec<&String> = masked.as_object().unwrap().keys().collect();
    fields.sort();
    assert_eq!(
        fields,
        ["lyrics", "title"],
        "only the fields asked for: {masked}"
    );
    assert_eq!(masked["title"], album["songs"][0]["title"]);

    let fetched: Value =
        serde_json::from_str(&succeeds(folder, &["--json", "albums", "get", album_id])).unwrap();
    assert_eq!(fetched, album, "the streamed album is the stored one");
    let text = succeeds(folder, &["albums", "get", album_id]);
    assert!(
        text.starts_with(&format!("# {}", album["title"].as_str().unwrap())),
        "{text}"
    );

    let said = succeeds(folder, &["cover", "get", cover_id, "-o", "cover.png"]);
    assert!(said.starts_with("wrote cover.png"), "{said}");
    assert_eq!(
        png_size(&std::fs::read(folder.join("cover.png")).unwrap()),
        (512, 512)
    );

    // --- Lyrics stream: the first song is out before the last is written ---------------
    let mut lyrics = superstar_command();
    lyrics
        .args([
            "lyrics",
            "--genre",
            "polish disco polo",
            "--theme",
            "summer at the lake",
            "--songs",
            "3",
        ])
        .current_dir(folder)
        .env_remove("SUPERSTAR_KEY");
    prints_songs_as_written(lyrics, 3);

    // --- Failures: one line each, an exit code per kind ---------------------------------
    let mut wrong = superstar_command();
    wrong
        .args(["songs", "list"])
        .current_dir(folder)
        .env("SUPERSTAR_KEY", "not-a-key-0123456789");
    let said = fails_with(&wrong.output().unwrap(), 3);
    assert!(
        said.contains("API key") && said.contains("request id"),
        "{said}"
    );
    assert!(
        !said.contains("not-a-key-0123456789"),
        "the key is never printed: {said}"
    );
    let said = fails_with(
        &run_in(
            folder,
            &["songs", "get", "0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e"],
        ),
        4,
    );
    assert!(said.contains("not found"), "{said}");
    let said = fails_with(
        &run_in(folder, &["album", "--genre", "jazz", "--theme", ""]),
        2,
    );
    assert!(said.contains("theme"), "the field is named: {said}");
    // A usage mistake: clap's own message (with its usage lines), the usage code.
    assert_eq!(
        run_in(folder, &["songs", "frobnicate"]).status.code(),
        Some(2)
    );

    // --- Jam on a pseudo-terminal: a take, one revision, Ctrl-D -------------------------
    jam_on_a_terminal(folder);
}

/// `superstar jam` driven as a person would: the first take streams, the prompt comes,
/// one revision is typed and streams as take 2, Ctrl-D ends the session cleanly.
fn jam_on_a_terminal(folder: &Path) {
    let mut command = superstar_command();
    command
        .args(["jam", "--genre", "synthwave", "--theme", "a late train"])
        .current_dir(folder)
        .env_remove("SUPERSTAR_KEY");
    let mut session = rexpect::session::spawn_command(command, Some(60_000)).unwrap();
    session.exp_string("(take 1 stored as").unwrap();
    session.exp_string("revise (Ctrl-D ends)> ").unwrap();
    session.send_line("shorter").unwrap();
    session.exp_string("(take 2 stored as").unwrap();
    session.exp_string("revise (Ctrl-D ends)> ").unwrap();
    session.send_control('d').unwrap();
    session.exp_eof().unwrap();
    let status = session.process.wait().unwrap();
    assert!(
        matches!(status, rexpect::process::wait::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );
}

/// Nothing listens: UNAVAILABLE, retried with backoff, given up within the timeout.
#[test]
#[ignore = "needs the release binaries: bin/test runs this"]
fn an_unreachable_gateway_is_its_own_exit_code_within_the_timeout() {
    let checkout = checkout();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("https://127.0.0.1:{port}");
    let started = Instant::now();
    let output = run_in(
        checkout.path(),
        &["--endpoint", &endpoint, "--timeout", "3", "songs", "list"],
    );
    let took = started.elapsed();
    let said = fails_with(&output, 5);
    assert!(took < Duration::from_secs(5), "took {took:?}: {said}");
}

/// A spent limit is its own exit code, saying when to retry; another client's calls
/// still pass (limits are per client).
#[test]
#[ignore = "needs Envoy, grpcurl and release binaries: bin/test runs this"]
fn a_spent_limit_says_when_to_retry_and_spares_another_client() {
    let data = tempfile::tempdir().unwrap();
    let _up = Up::with_alice_and_bob(
        data.path(),
        &[("READ_RATE_PER_SECOND", "1"), ("READ_BURST", "2")],
    );
    let checkout = checkout();
    let as_client = |key: &str| {
        let mut command = superstar_command();
        command
            .args(["songs", "list"])
            .current_dir(checkout.path())
            .env("SUPERSTAR_KEY", key);
        command.output().unwrap()
    };
    let mut refused = None;
    for _ in 0..4 {
        let output = as_client(ALICE);
        if !output.status.success() {
            refused = Some(output);
            break;
        }
    }
    let said = fails_with(&refused.expect("alice's burst of 2 runs out"), 6);
    assert!(said.contains("retry in "), "{said}");
    let bob = as_client(BOB);
    assert!(
        bob.status.success(),
        "bob's bucket is his own: {}",
        String::from_utf8_lossy(&bob.stderr)
    );
}

/// The README's `cargo install --locked --path cli`, into a throw-away root (reusing this
/// checkout's release build, so nothing is compiled twice): a `superstar` that runs.
#[test]
#[ignore = "needs the release build: bin/test runs this"]
fn cargo_install_puts_superstar_on_the_path() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    assert!(
        readme
            .lines()
            .any(|line| line == "cargo install --locked --path cli")
    );
    let root = tempfile::tempdir().unwrap();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    // With the profile bin/test builds the system with (release when unset).
    let profile = super::cargo_profile();
    let output = super::up::as_a_user(PathBuf::from("cargo"))
        .args([
            "install",
            "--locked",
            "--quiet",
            "--path",
            "cli",
            "--profile",
            &profile,
        ])
        .arg("--root")
        .arg(root.path())
        .current_dir(repo())
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let version = Command::new(root.path().join("bin/superstar"))
        .arg("--version")
        .output()
        .unwrap();
    assert!(version.status.success());
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("superstar "));
}

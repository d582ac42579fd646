//! `bin/up`, running, and the README's commands run against it: what the end-to-end
//! tests through the real Envoy stand on.
//!
//! Each system runs on a block of ports of its own ([`Ports`]) with its files in a
//! folder of its own (`SUPERSTAR_RUN_DIR`), so that tests in separate processes (as
//! cargo-nextest runs them) each run their own system at once. Within one process one
//! system runs at a time ([`one_at_a_time`]): the helpers below talk to "the" system.

use std::{
    io::{BufRead, BufReader},
    net::TcpListener,
    process::{Child, Command, Output, Stdio},
    sync::{Mutex, MutexGuard, PoisonError, mpsc},
    time::{Duration, Instant},
};

use serde_json::Value;

use super::*;

/// The README's first step after `bin/up`: the key from `.env`.
pub(super) const EXPORT_KEY: &str =
    "export SUPERSTAR_KEY=$(grep ^SUPERSTAR_API_KEYS .env | cut -d: -f2)";

/// The ports one system listens on: a block of its own, claimed by a lock on a file for
/// as long as the process holds it (the lock goes with the process, however it ends).
///
/// Block N starts at 20000 + 200 N, below Linux's ephemeral ports (32768 and up), so
/// no connection the OS numbers takes one: the gateway at +0, Envoy's admin and stats
/// at +1 and +2, the song producer at +10, the cover designer at +11, their metrics at
/// +12 and +13, and replica N (from 0) of a service at its port + 10 N, as `bin/up`
/// numbers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Ports {
    pub gateway: u16,
    pub admin: u16,
    pub stats: u16,
    pub song_producer: u16,
    pub cover_designer: u16,
    pub song_producer_metrics: u16,
    pub cover_designer_metrics: u16,
}

/// The defaults, as the docs and compose know them.
pub(super) const DEFAULT_PORTS: Ports = Ports {
    gateway: 8443,
    admin: 9901,
    stats: 9902,
    song_producer: 50051,
    cover_designer: 50052,
    song_producer_metrics: 9101,
    cover_designer_metrics: 9102,
};

impl Ports {
    fn at(base: u16) -> Self {
        Self {
            gateway: base,
            admin: base + 1,
            stats: base + 2,
            song_producer: base + 10,
            cover_designer: base + 11,
            song_producer_metrics: base + 12,
            cover_designer_metrics: base + 13,
        }
    }

    /// Every port the system may open, its replicas' (up to 10 of each) included.
    fn all(&self) -> Vec<u16> {
        let mut all = vec![self.gateway, self.admin, self.stats];
        for replica in 0..10 {
            all.extend(
                [
                    self.song_producer,
                    self.cover_designer,
                    self.song_producer_metrics,
                    self.cover_designer_metrics,
                ]
                .map(|port| port + 10 * replica),
            );
        }
        all
    }

    /// Claims the first block no other process holds and whose ports are all free; the
    /// claim lasts as long as the file it returns is open.
    pub(super) fn claim() -> (Self, std::fs::File) {
        for block in 0..40 {
            let base = 20_000 + 200 * block;
            let path = std::env::temp_dir().join(format!("superstar-test-ports-{base}.lock"));
            let file = std::fs::File::create(&path)
                .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
            if file.try_lock().is_err() {
                continue;
            }
            let ports = Self::at(base);
            if ports
                .all()
                .into_iter()
                .all(|port| TcpListener::bind(("127.0.0.1", port)).is_ok())
            {
                return (ports, file);
            }
        }
        panic!("no block of free ports from 20000 to 28000");
    }

    /// The variables that give `bin/up` (and `bin/bench`) these ports.
    pub(super) fn variables(&self) -> [(&'static str, String); 7] {
        [
            ("GATEWAY_PORT", self.gateway.to_string()),
            ("GATEWAY_ADMIN_PORT", self.admin.to_string()),
            ("GATEWAY_STATS_PORT", self.stats.to_string()),
            ("SONG_PRODUCER_PORT", self.song_producer.to_string()),
            ("COVER_DESIGNER_PORT", self.cover_designer.to_string()),
            (
                "SONG_PRODUCER_METRICS_PORT",
                self.song_producer_metrics.to_string(),
            ),
            (
                "COVER_DESIGNER_METRICS_PORT",
                self.cover_designer_metrics.to_string(),
            ),
        ]
    }
}

/// Where a system runs: its ports and its folder (`SUPERSTAR_RUN_DIR`: `logs/`, `run/`
/// and `envoy/` under it).
#[derive(Debug, Clone)]
pub(super) struct System {
    pub ports: Ports,
    pub folder: std::path::PathBuf,
}

impl System {
    /// `bin/up`'s log of `name` (`song-producer`, `envoy`, `song-producer-2`, …).
    pub(super) fn log(&self, name: &str) -> String {
        let path = self.folder.join(format!("logs/{name}.log"));
        std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
    }

    /// The file holding the pid of `bin/up`'s process `name`.
    pub(super) fn pid_file(&self, name: &str) -> std::path::PathBuf {
        self.folder.join(format!("run/{name}.pid"))
    }

    /// The gateway's address.
    pub(super) fn gateway(&self) -> std::net::SocketAddr {
        (std::net::Ipv4Addr::LOCALHOST, self.ports.gateway).into()
    }

    /// The gateway's URL, as a browser or curl names it.
    pub(super) fn url(&self) -> String {
        format!("https://localhost:{}", self.ports.gateway)
    }
}

static RUNNING: Mutex<Option<System>> = Mutex::new(None);

/// The system this process runs now (see [`Up`]); `None` when none runs: the helpers
/// below then speak to the default ports, where compose publishes the gateway.
pub(super) fn running() -> Option<System> {
    RUNNING
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// The system this process runs now; panics when none does.
#[track_caller]
pub(super) fn system() -> System {
    running().expect("a system runs (Up::start_with)")
}

/// A command as the docs write it (the default ports, `bin/up`'s default folders), for
/// the system this process runs, if any: its own ports and folder. The README's
/// commands are run as written but for this.
pub(super) fn for_this_system(command: &str) -> String {
    let Some(system) = running() else {
        return command.to_owned();
    };
    let (from, to) = (DEFAULT_PORTS, system.ports);
    let mut command = command.to_owned();
    for host in ["localhost", "127.0.0.1"] {
        for (default, own) in [
            (from.gateway, to.gateway),
            (from.admin, to.admin),
            (from.stats, to.stats),
            (from.song_producer, to.song_producer),
            (from.cover_designer, to.cover_designer),
            (from.song_producer_metrics, to.song_producer_metrics),
            (from.cover_designer_metrics, to.cover_designer_metrics),
        ] {
            command = command.replace(&format!("{host}:{default}"), &format!("{host}:{own}"));
        }
    }
    let folder = system.folder.display().to_string();
    command
        .replace("data/logs/", &format!("{folder}/logs/"))
        .replace("data/run/", &format!("{folder}/run/"))
}

/// A command for one of our scripts, run as a user runs it: without the variables cargo
/// sets for this test, which would make the script's own `cargo build` see a changed
/// environment and rebuild everything.
pub(super) fn as_a_user(program: std::path::PathBuf) -> Command {
    let mut command = Command::new(program);
    let set_by_cargo = [
        "CARGO",
        "CARGO_CRATE_NAME",
        "CARGO_PRIMARY_PACKAGE",
        "CARGO_TARGET_TMPDIR",
    ];
    for (name, _) in std::env::vars() {
        let prefixed = ["CARGO_PKG_", "CARGO_BIN_", "CARGO_MANIFEST_"]
            .iter()
            .any(|prefix| name.starts_with(prefix));
        if prefixed || set_by_cargo.contains(&name.as_str()) {
            command.env_remove(name);
        }
    }
    command
}

/// Held while a test runs the system on its fixed ports (`bin/up`, `bin/bench`).
pub(super) fn one_at_a_time() -> MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    ONE_AT_A_TIME.lock().unwrap_or_else(PoisonError::into_inner)
}

/// `bin/up`, running, on ports and in a folder of its own. One at a time in a process.
pub(super) struct Up {
    child: Child,
    /// Where it runs.
    pub system: System,
    _ports: std::fs::File,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Up {
    /// Starts `bin/up` with `settings` in its environment (which win over `.env`) and
    /// waits for its `ready` line, printed once every health check passes (it builds
    /// its binaries first when they are stale). Its ports are a block of its own, its
    /// logs, pids and gateway config in `data/up/`.
    pub(super) fn start_with(data: &std::path::Path, settings: &[(&str, &str)]) -> Self {
        let guard = one_at_a_time();
        let (ports, claim) = Ports::claim();
        let system = System {
            ports,
            folder: data.join("up"),
        };
        let mut child = as_a_user(repo().join("bin/up"))
            .current_dir(repo())
            .envs(ports.variables())
            .env("SUPERSTAR_RUN_DIR", &system.folder)
            .env(
                "SONG_PRODUCER_DATABASE_URL",
                format!("sqlite://{}/songs.db", data.display()),
            )
            .env(
                "COVER_DESIGNER_DATABASE_URL",
                format!("sqlite://{}/covers.db", data.display()),
            )
            // Slow enough that a stream visibly streams.
            .env("OFFLINE_TYPING_DELAY_MS", "8")
            .envs(settings.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .expect("bin/up starts");
        let stdout = child.stdout.take().unwrap();
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        });
        let started = std::time::SystemTime::now();
        let deadline = Instant::now() + Duration::from_secs(900);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match received.recv_timeout(left) {
                Ok(line) if line == "ready" => {
                    *RUNNING.lock().unwrap_or_else(PoisonError::into_inner) = Some(system.clone());
                    return Self {
                        child,
                        system,
                        _ports: claim,
                        _one_at_a_time: guard,
                    };
                }
                Ok(_) => continue,
                Err(_) => panic!(
                    "bin/up did not become ready:\n{}",
                    recent_logs(&system, started)
                ),
            }
        }
    }

    /// Starts `bin/up` with two clients, alice ([`ALICE`]) and bob ([`BOB`]), and
    /// `settings`: what every test of a limit needs, since a limit is per client.
    pub(super) fn with_alice_and_bob(data: &std::path::Path, settings: &[(&str, &str)]) -> Self {
        let keys = format!("alice:{ALICE},bob:{BOB}");
        let mut settings = settings.to_vec();
        settings.push(("SUPERSTAR_API_KEYS", &keys));
        Self::start_with(data, &settings)
    }

    /// SIGTERM, then waits for bin/up to exit.
    pub(super) fn stop(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "bin/up did not stop within 15 s");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The last lines of each of the system's logs written to since `since`: what a failed
/// start needs to be understood from CI's output alone.
fn recent_logs(system: &System, since: std::time::SystemTime) -> String {
    let mut said = String::new();
    let Ok(entries) = std::fs::read_dir(system.folder.join("logs")) else {
        return format!("(no {}/logs/)", system.folder.display());
    };
    let mut paths: Vec<_> = entries.map_while(Result::ok).map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let written = std::fs::metadata(&path).and_then(|m| m.modified());
        if written.is_ok_and(|written| written >= since) {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let lines: Vec<_> = text.lines().collect();
            let tail = lines[lines.len().saturating_sub(15)..].join("\n");
            said += &format!("--- {} (last lines)\n{tail}\n", path.display());
        }
    }
    said
}

impl Drop for Up {
    fn drop(&mut self) {
        *RUNNING.lock().unwrap_or_else(PoisonError::into_inner) = None;
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = Command::new("kill")
                .args(["-TERM", &self.child.id().to_string()])
                .status();
            let _ = self.child.wait();
        }
    }
}

/// A README command for bash, run from the repository root after the key's export,
/// against the system this process runs ([`for_this_system`]).
pub(super) fn bash(command: &str) -> Command {
    let mut bash = Command::new("bash");
    bash.args(["-c", &format!("{EXPORT_KEY}\n{}", for_this_system(command))])
        .current_dir(repo());
    bash
}

/// Starts `command` with its standard output piped: the process and its lines, to read
/// while it runs.
pub(super) fn streaming(
    mut command: Command,
) -> (Child, std::io::Lines<BufReader<std::process::ChildStdout>>) {
    let mut child = command.stdout(Stdio::piped()).spawn().expect("it starts");
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    (child, lines)
}

/// `command` prints songs as Markdown (`# title`, then the lyrics), each as it is
/// written: the first title is out while the command still runs, and `count` in all.
#[track_caller]
pub(super) fn prints_songs_as_written(command: Command, count: usize) {
    let (mut child, mut lines) = streaming(command);
    let first = lines.next().expect("a line").unwrap();
    assert!(first.starts_with("# "), "a title first: {first}");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first song arrived while the others were being written"
    );
    let titles = 1 + lines
        .map_while(Result::ok)
        .filter(|line| line.starts_with("# "))
        .count();
    assert!(child.wait().unwrap().success());
    assert_eq!(titles, count);
}

/// Runs a README command in bash from the repository root, after the key's export.
pub(super) fn sh(command: &str) -> Output {
    bash(command).output().expect("bash runs")
}

/// Runs a command that must succeed and returns its standard output.
#[track_caller]
pub(super) fn ok(command: &str) -> String {
    let output = sh(command);
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{command}\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// curl with `-w '\n%{http_code}'`: the body and the status.
#[track_caller]
pub(super) fn curl(arguments: &str) -> (Value, u16) {
    let output = ok(&format!(
        "curl -sS --cacert certs/ca.pem {arguments} -w '\\n%{{http_code}}'"
    ));
    let (body, status) = output
        .trim_end()
        .rsplit_once('\n')
        .expect("a body and a status");
    let body = serde_json::from_str(body).unwrap_or_else(|_| panic!("a JSON body: {body}"));
    (body, status.parse().unwrap())
}

/// grpcurl, as the README runs it, failing or not: the combined output.
pub(super) fn grpcurl(arguments: &str) -> (bool, String) {
    let output = sh(&format!(
        ".venv/bin/grpcurl -cacert certs/ca.pem {arguments}"
    ));
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    (output.status.success(), text)
}

pub(super) const KEY: &str = "-H \"x-api-key: $SUPERSTAR_KEY\"";

/// Alice's key, for [`Up::with_alice_and_bob`].
pub(super) const ALICE: &str = "alice-key-0123456789abcdef";
/// Bob's key, for [`Up::with_alice_and_bob`].
pub(super) const BOB: &str = "bob-key-0123456789abcdef";

/// The gateway of the system this process runs.
pub(super) fn gateway() -> std::net::SocketAddr {
    system().gateway()
}

/// A new gRPC connection to the gateway, trusting the project's CA.
pub(super) async fn gateway_channel() -> tonic::transport::Channel {
    superstar_testkit::channel(gateway(), &repo().join("certs/ca.pem"), None)
        .await
        .expect("a TLS connection to the gateway")
}

/// `message` with the API key `key`, as a client sends it.
pub(super) fn with_key<T>(key: &str, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("x-api-key", key.parse().expect("a key is ASCII"));
    request
}

/// A stand-in OpenAI chat provider answering every chat completion with `reply`, on a
/// server of its own (not from wiremock's pool: dropped, it refuses connections, as a
/// provider cut off does), and the settings that point `bin/up`'s lyricist at it, with
/// one attempt per call and covers from the offline painter.
pub(super) fn chat_provider(
    runtime: &tokio::runtime::Runtime,
    reply: wiremock::ResponseTemplate,
) -> (wiremock::MockServer, Vec<(&'static str, String)>) {
    use wiremock::matchers::{method, path};
    let server = runtime.block_on(wiremock::MockServer::builder().start());
    runtime.block_on(
        wiremock::Mock::given(method("POST"))
            .and(path("/v1/chat/completions"))
            .respond_with(reply)
            .mount(&server),
    );
    let settings = vec![
        ("SUPERSTAR_PROVIDER", "openai".to_owned()),
        ("OPENAI_BASE_URL", format!("{}/v1", server.uri())),
        (
            "OPENAI_CHAT_MODEL",
            superstar_testkit::openai::CHAT_MODEL.to_owned(),
        ),
        ("OPENAI_IMAGE_MODEL", "offline".to_owned()),
        ("OPENAI_MAX_ATTEMPTS", "1".to_owned()),
    ];
    (server, settings)
}

/// `settings` as `Up::start_with` takes them, with `more` after them.
pub(super) fn with<'a>(
    settings: &'a [(&'static str, String)],
    more: &[(&'static str, &'a str)],
) -> Vec<(&'static str, &'a str)> {
    settings
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .chain(more.iter().copied())
        .collect()
}

/// The detail of type `name` (`google.rpc.BadRequest`, …) in a JSON error's `details`.
#[track_caller]
pub fn detail<'a>(error: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    let url = format!("type.googleapis.com/{name}");
    error["details"]
        .as_array()
        .and_then(|details| {
            details
                .iter()
                .find(|detail| detail["@type"] == url.as_str())
        })
        .unwrap_or_else(|| panic!("no {name} in {error}"))
}

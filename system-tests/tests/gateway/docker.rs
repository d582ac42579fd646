//! `docker compose up`, on a real Docker engine, as the README tells users to run it.
//!
//! bin/test runs these (their names start with `docker_`) after `bin/base-images` and
//! `bin/dev_init.sh` have built the images, and only when a Docker engine answers; it
//! says so in one line when none does. The stack runs as its own compose project, on a
//! throw-away data folder, and is spoken to only through the port it publishes on
//! 127.0.0.1.

use std::{
    collections::BTreeSet,
    os::unix::fs::MetadataExt,
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::MutexGuard,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::{
    readme::{KEY, curl, one_at_a_time, the_readme_tour},
    *,
};

/// The compose project the tests run, apart from a user's own `superstar`.
const PROJECT: &str = "superstar-test";

/// A setting from the checkout's `.env` (which bin/dev_init.sh wrote).
fn dot_env(name: &str) -> String {
    let text = std::fs::read_to_string(repo().join(".env")).expect(".env: run bin/dev_init.sh");
    text.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("{name} in .env"))
        .to_owned()
}

/// Runs a command and returns its output, failing the test with both streams if it fails.
#[track_caller]
fn run(command: &mut Command) -> String {
    let output = command.output().expect("the command starts");
    assert!(
        output.status.success(),
        "{command:?}\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn docker(args: &[&str]) -> Command {
    let mut command = Command::new("docker");
    command.args(args);
    command
}

/// The test's compose project: the repository's docker-compose.yml and .env, its own
/// project name and data folder. `down` when dropped.
struct Stack {
    /// Compose files besides docker-compose.yml (the PostgreSQL override).
    overrides: Vec<&'static str>,
    data: tempfile::TempDir,
    /// An OpenAI key that must reach the services and nothing else. The providers stay
    /// offline (`SUPERSTAR_PROVIDER=offline`), so it is never used.
    openai_key: String,
    _one_at_a_time: MutexGuard<'static, ()>,
}

impl Stack {
    fn new() -> Self {
        Self::with_overrides(&[])
    }

    fn with_overrides(overrides: &[&'static str]) -> Self {
        let guard = one_at_a_time();
        assert!(
            std::net::TcpListener::bind(("127.0.0.1", 8443)).is_ok(),
            "port 8443 is taken: is bin/up or another stack running?"
        );
        let data = tempfile::tempdir().unwrap();
        let stack = Self {
            overrides: overrides.to_vec(),
            data,
            openai_key: format!("sk-test-{}", uuid_like()),
            _one_at_a_time: guard,
        };
        // Empty data folders, writable by the user the containers run as: as root,
        // handed to that user, as bin/dev_init.sh does.
        let uid: u32 = dot_env("SUPERSTAR_UID").parse().unwrap();
        let gid: u32 = dot_env("SUPERSTAR_GID").parse().unwrap();
        let as_root = std::fs::metadata("/proc/self").unwrap().uid() == 0;
        for service in ["song-producer", "cover-designer"] {
            let folder = stack.data.path().join(service);
            std::fs::create_dir(&folder).unwrap();
            if as_root {
                std::os::unix::fs::chown(&folder, Some(uid), Some(gid)).unwrap();
            }
        }
        stack
    }

    /// `docker compose ARGS` in the repository, for this project.
    fn compose(&self, args: &[&str]) -> Command {
        let mut command = Command::new("docker");
        command.arg("compose");
        if !self.overrides.is_empty() {
            command.args(["--file", "docker-compose.yml"]);
            for file in &self.overrides {
                command.args(["--file", file]);
            }
        }
        command
            .args(args)
            .current_dir(repo())
            .env("COMPOSE_PROJECT_NAME", PROJECT)
            .env("SUPERSTAR_DATA_DIR", self.data.path())
            .env("SUPERSTAR_PROVIDER", "offline")
            .env("OPENAI_API_KEY", &self.openai_key);
        command
    }

    /// `docker compose up --wait` with ARGS: returns once every container is healthy.
    fn up(&self, args: &[&str]) {
        let mut all = vec!["up", "--detach", "--wait", "--wait-timeout", "180"];
        all.extend_from_slice(args);
        let output = self.compose(&all).output().unwrap();
        if !output.status.success() {
            let logs = self.compose(&["logs", "--no-color"]).output().unwrap();
            panic!(
                "docker compose up failed:\n{}\n{}",
                String::from_utf8_lossy(&output.stderr),
                String::from_utf8_lossy(&logs.stdout)
            );
        }
    }

    fn down(&self) {
        run(&mut self.compose(&["down", "--timeout", "20"]));
    }

    /// The project's containers, running or not.
    fn containers(&self) -> Vec<String> {
        run(&mut docker(&[
            "ps",
            "--all",
            "--quiet",
            "--filter",
            &format!("label=com.docker.compose.project={PROJECT}"),
        ]))
        .split_whitespace()
        .map(str::to_owned)
        .collect()
    }

    /// `docker inspect` of each container of a service.
    fn inspect(&self, service: &str) -> Vec<Value> {
        let ids = run(&mut self.compose(&["ps", "--quiet", service]));
        let ids: Vec<&str> = ids.split_whitespace().collect();
        assert!(!ids.is_empty(), "{service} runs");
        let mut args = vec!["inspect"];
        args.extend(ids);
        serde_json::from_str::<Vec<Value>>(&run(&mut docker(&args))).unwrap()
    }

    /// Runs bash in the Envoy container (the only image with a shell), e.g. to read a
    /// replica's metrics over the compose network.
    fn in_envoy(&self, script: &str) -> String {
        run(&mut self.compose(&["exec", "-T", "envoy", "bash", "-c", script]))
    }

    /// An HTTP GET from inside the compose network, with bash's /dev/tcp.
    fn get_inside(&self, host: &str, port: u16, path: &str) -> String {
        self.in_envoy(&format!(
            "exec 3<>/dev/tcp/{host}/{port} && printf 'GET {path} HTTP/1.1\\r\\nHost: {host}\\r\\nConnection: close\\r\\n\\r\\n' >&3 && cat <&3"
        ))
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = self
            .compose(&["down", "--timeout", "5", "--remove-orphans", "--volumes"])
            .output();
    }
}

/// A random hex string, from the kernel.
fn uuid_like() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/uuid")
        .unwrap()
        .trim()
        .replace('-', "")
}

/// How many of a cluster's hosts Envoy's health checks find healthy.
fn healthy_hosts(stack: &Stack, cluster: &str) -> usize {
    stack
        .get_inside("127.0.0.1", 9901, "/clusters")
        .lines()
        .filter(|line| {
            line.starts_with(&format!("{cluster}::")) && line.contains("::health_flags::healthy")
        })
        .count()
}

/// Waits until Envoy sees `count` healthy hosts in each upstream cluster.
fn wait_for_replicas(stack: &Stack, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    for cluster in ["song_producer", "cover_designer"] {
        loop {
            let healthy = healthy_hosts(stack, cluster);
            if healthy == count {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "Envoy sees {healthy} healthy {cluster} hosts, not {count}"
            );
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

/// The gRPC calls a replica has answered for `service` (health checks excluded), from
/// its own Prometheus metrics.
fn calls_answered(stack: &Stack, container: &str, metrics_port: u16, service: &str) -> u64 {
    stack
        .get_inside(container, metrics_port, "/metrics")
        .lines()
        .filter(|line| {
            line.starts_with("grpc_server_handled_total{")
                && line.contains(&format!("service=\"{service}\""))
        })
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>() as u64
}

#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_compose_serves_the_readme_scaled_keeps_data_and_scopes_secrets() {
    let stack = Stack::new();

    // --- Two replicas of each service start together on one fresh SQLite file each --------
    stack.up(&["--scale", "song-producer=2", "--scale", "cover-designer=2"]);
    wait_for_replicas(&stack, 2);

    // --- The README, through the published port --------------------------------------------
    let album = the_readme_tour();

    // Every replica took traffic: Envoy balances over all of them.
    for (service, port, grpc_service, replicas) in [
        ("song-producer", 9101, "superstar.v1.SongProducer", 2),
        ("cover-designer", 9102, "superstar.v1.CoverDesigner", 2),
    ] {
        let containers = stack.inspect(service);
        assert_eq!(containers.len(), replicas, "{service} replicas");
        for container in containers {
            let name = container["Name"].as_str().unwrap().trim_start_matches('/');
            let answered = calls_answered(&stack, name, port, grpc_service);
            assert!(answered > 0, "{name} answered no {grpc_service} call");
        }
    }

    // --- Secrets: each container holds only its own ------------------------------------------
    check_secrets(&stack);

    // --- down, then up: the albums and covers are still there ------------------------------------
    stack.down();
    assert!(
        stack.containers().is_empty(),
        "docker compose down left containers"
    );
    stack.up(&[]);
    wait_for_replicas(&stack, 1);
    let id = album["id"].as_str().unwrap();
    let (kept, status) = curl(&format!("{KEY} https://localhost:8443/v1/albums/{id}"));
    assert_eq!(status, 200, "{kept}");
    assert_eq!(kept["songs"], album["songs"]);
    let cover = album["cover"]["id"].as_str().unwrap();
    let (_, status) = curl(&format!("{KEY} https://localhost:8443/v1/covers/{cover}"));
    assert_eq!(status, 200, "the cover survived down and up");

    stack.down();
    assert!(stack.containers().is_empty());
    let networks = run(&mut docker(&[
        "network",
        "ls",
        "--quiet",
        "--filter",
        &format!("label=com.docker.compose.project={PROJECT}"),
    ]));
    assert!(networks.trim().is_empty(), "a network was left: {networks}");
}

/// `docker-compose.postgres.yml`: two replicas of each service on one PostgreSQL server,
/// started together (the migrations take sqlx's advisory lock), each service in its own
/// database with its own role; the README's album made and read back through Envoy.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_compose_on_postgres_with_replicas() {
    let stack = Stack::with_overrides(&["docker-compose.postgres.yml"]);
    stack.up(&["--scale", "song-producer=2", "--scale", "cover-designer=2"]);
    wait_for_replicas(&stack, 2);

    let (album, status) = curl(&format!(
        r#"{KEY} https://localhost:8443/v1/albums -d '{{"genre": "jazz", "theme": "shared data", "songsCount": 2}}'"#
    ));
    assert_eq!(status, 200, "{album}");
    // Reads go to either replica: each finds what the other stored.
    let id = album["id"].as_str().unwrap();
    let cover = album["cover"]["id"].as_str().unwrap();
    for _ in 0..4 {
        let (read, status) = curl(&format!("{KEY} https://localhost:8443/v1/albums/{id}"));
        assert_eq!((status, &read["songs"]), (200, &album["songs"]));
        let (_, status) = curl(&format!("{KEY} https://localhost:8443/v1/covers/{cover}"));
        assert_eq!(status, 200);
    }
    let count = |role: &str, table: &str| {
        run(&mut stack.compose(&[
            "exec",
            "-T",
            "postgres",
            "psql",
            "--username",
            "postgres",
            "--dbname",
            role,
            "--tuples-only",
            "--no-align",
            "--command",
            &format!("SELECT count(*) FROM {table}"),
        ]))
        .trim()
        .to_owned()
    };
    assert_eq!(count("song_producer", "albums"), "1");
    assert_eq!(count("song_producer", "songs"), "2");
    assert_eq!(count("cover_designer", "covers"), "1");
    for service in ["song-producer", "cover-designer"] {
        let files = std::fs::read_dir(stack.data.path().join(service))
            .unwrap()
            .count();
        assert_eq!(
            files, 0,
            "{service} wrote SQLite files instead of using PostgreSQL"
        );
    }
}

/// Which files of certs/ a container has mounted, by name.
fn mounted_certs(container: &Value) -> BTreeSet<String> {
    let certs = repo().join("certs");
    container["Mounts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|mount| {
            let source = PathBuf::from(mount["Source"].as_str()?);
            (source.parent()? == certs)
                .then(|| source.file_name().unwrap().to_string_lossy().into_owned())
        })
        .collect()
}

fn check_secrets(stack: &Stack) {
    let api_key = dot_env("SUPERSTAR_API_KEYS");
    let expected: [(&str, &[&str], bool, bool); 3] = [
        (
            "envoy",
            &[
                "ca.pem",
                "envoy.pem",
                "envoy-key.pem",
                "envoy-client.pem",
                "envoy-client-key.pem",
            ],
            false,
            true,
        ),
        (
            "song-producer",
            &[
                "ca.pem",
                "song-producer.pem",
                "song-producer-key.pem",
                "song-producer-client.pem",
                "song-producer-client-key.pem",
            ],
            true,
            false,
        ),
        (
            "cover-designer",
            &["ca.pem", "cover-designer.pem", "cover-designer-key.pem"],
            true,
            false,
        ),
    ];
    for (service, certs, has_openai_key, has_api_keys) in expected {
        for container in stack.inspect(service) {
            let name = container["Name"].as_str().unwrap();
            let user = container["Config"]["User"].as_str().unwrap_or_default();
            let uid = user.split(':').next().unwrap_or_default();
            assert!(
                !uid.is_empty() && uid != "0" && uid != "root",
                "{name} runs as {user:?}"
            );
            let wanted: BTreeSet<String> = certs.iter().map(|file| (*file).to_owned()).collect();
            assert_eq!(mounted_certs(&container), wanted, "{name}'s certificates");
            let sources: Vec<&str> = container["Mounts"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|mount| mount["Source"].as_str())
                .collect();
            assert!(
                !sources
                    .iter()
                    .any(|source| source.ends_with("/.env") || source.ends_with("ca-key.pem")),
                "{name} mounts {sources:?}"
            );
            let environment = container["Config"]["Env"].to_string();
            assert_eq!(
                environment.contains(&stack.openai_key),
                has_openai_key,
                "{name}: the OpenAI key"
            );
            assert_eq!(
                environment.contains(&api_key),
                has_api_keys,
                "{name}: the API keys"
            );
        }
    }
    // Inside the gateway: its own five files, nothing else.
    let listed = stack.in_envoy("ls /etc/superstar/certs");
    let listed: BTreeSet<&str> = listed.split_whitespace().collect();
    assert_eq!(
        listed,
        BTreeSet::from([
            "ca.pem",
            "envoy-client-key.pem",
            "envoy-client.pem",
            "envoy-key.pem",
            "envoy.pem"
        ])
    );
    assert_ne!(stack.in_envoy("id -u").trim(), "0", "Envoy runs as root");
}

/// The images as built: no layer holds .env, a private key, the API key or any key
/// from certs/.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_images_hold_no_secret() {
    let work = tempfile::tempdir().unwrap();
    let saved = work.path().join("images.tar");
    let images = [
        "superstar/song-producer",
        "superstar/cover-designer",
        "superstar/envoy",
    ];
    let mut args = vec!["save", "--output", saved.to_str().unwrap()];
    args.extend(images);
    run(&mut docker(&args));
    let unpacked = work.path().join("unpacked");
    std::fs::create_dir(&unpacked).unwrap();
    run(Command::new("tar")
        .arg("-xf")
        .arg(&saved)
        .arg("-C")
        .arg(&unpacked));
    std::fs::remove_file(&saved).unwrap();

    // What must appear nowhere: the API key and a line of each private key's body.
    let mut secrets = vec![dot_env("SUPERSTAR_API_KEYS")];
    for entry in std::fs::read_dir(repo().join("certs")).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().ends_with("-key.pem") {
            let key = std::fs::read_to_string(&path).unwrap();
            secrets.push(key.lines().nth(1).expect("a PEM body").to_owned());
        }
    }
    let patterns = work.path().join("secrets");
    std::fs::write(&patterns, secrets.join("\n")).unwrap();

    let mut layers = 0;
    for layer in files_below(&unpacked) {
        let listing = Command::new("tar").arg("-tf").arg(&layer).output().unwrap();
        if !listing.status.success() {
            continue; // a manifest or a config, not a layer
        }
        layers += 1;
        for name in String::from_utf8_lossy(&listing.stdout).lines() {
            let file = name
                .rsplit('/')
                .find(|part| !part.is_empty())
                .unwrap_or(name);
            assert!(
                file != ".env" && !file.ends_with("-key.pem") && file != "ca-key.pem",
                "{} holds {name}",
                layer.display()
            );
        }
        let found = Command::new("grep")
            .args(["--count", "--fixed-strings", "--file"])
            .arg(&patterns)
            .arg(&layer)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&found.stdout).trim(),
            "0",
            "{} holds a secret",
            layer.display()
        );
    }
    assert!(layers >= 3, "found {layers} layers");
}

fn files_below(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_below(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// gateway-config runs inside the Envoy image whatever C library it has: it is static
/// (no ELF interpreter), and it renders the compose profile there.
#[test]
#[ignore = "needs a Docker engine and the images: bin/test runs this"]
fn docker_gateway_config_runs_in_the_envoy_image() {
    let rendered = run(&mut docker(&[
        "run",
        "--rm",
        "--env",
        "SUPERSTAR_API_KEYS=check:0123456789abcdef0123",
        "--entrypoint",
        "gateway-config",
        "superstar/envoy",
        "--profile",
        "compose",
        "--env-file",
        "/dev/null",
        "--out",
        "/tmp/rendered",
    ]));
    assert!(rendered.contains("envoy-compose.yaml"), "{rendered}");

    let bytes = docker(&[
        "run",
        "--rm",
        "--entrypoint",
        "cat",
        "superstar/envoy",
        "/usr/local/bin/gateway-config",
    ])
    .output()
    .unwrap()
    .stdout;
    assert!(bytes.starts_with(b"\x7fELF"), "an ELF binary");
    assert!(
        !has_interpreter(&bytes),
        "gateway-config is dynamically linked"
    );
}

/// Whether a 64-bit little-endian ELF file asks for a dynamic loader (PT_INTERP).
fn has_interpreter(elf: &[u8]) -> bool {
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let header_at = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|index| {
        let at = header_at + index * size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3
    })
}

/// `docker compose up` before bin/dev_init.sh: one clear line, and nothing started.
#[test]
#[ignore = "needs a Docker engine: bin/test runs this"]
fn docker_compose_up_before_dev_init_says_to_run_it() {
    let fresh = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("docker-compose.yml"),
        fresh.path().join("docker-compose.yml"),
    )
    .unwrap();
    let output: Output = Command::new("docker")
        .args(["compose", "up", "--no-build", "--detach"])
        .current_dir(fresh.path())
        .env("COMPOSE_PROJECT_NAME", "superstar-uninitialised")
        .env_remove("SUPERSTAR_UID")
        .env_remove("SUPERSTAR_GID")
        .env_remove("SUPERSTAR_API_KEYS")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(said.contains("run bin/dev_init.sh first"), "{said}");
    assert_eq!(said.trim().lines().count(), 1, "one line: {said}");
}

/// Without the base images, and no registry to pull them from, bin/base-images --check
/// (which bin/dev_init.sh runs before building) names them and says what to run.
#[test]
#[ignore = "needs a Docker engine: bin/test runs this"]
fn docker_missing_base_images_are_named_with_what_to_run() {
    let copy = tempfile::tempdir().unwrap();
    std::fs::create_dir(copy.path().join("bin")).unwrap();
    std::fs::copy(
        repo().join("bin/base-images"),
        copy.path().join("bin/base-images"),
    )
    .unwrap();
    std::fs::write(
        copy.path().join("Dockerfile"),
        "FROM superstar-test/not-anywhere:1 AS base\nFROM base AS final\n",
    )
    .unwrap();
    std::fs::write(copy.path().join("docker-compose.yml"), "services: {}\n").unwrap();
    let output = Command::new("bash")
        .arg(copy.path().join("bin/base-images"))
        .arg("--check")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success());
    assert!(
        said.contains("superstar-test/not-anywhere:1") && said.contains("run bin/base-images"),
        "{said}"
    );
    let listed = run(Command::new("bash")
        .arg(copy.path().join("bin/base-images"))
        .arg("--list"));
    assert_eq!(
        listed.trim(),
        "superstar-test/not-anywhere:1",
        "stages are not images"
    );
}

/// The build context the Dockerfile sees: the sources, and none of the secrets or the
/// large folders (.dockerignore).
#[test]
#[ignore = "needs a Docker engine: bin/test runs this"]
fn docker_build_context_holds_no_secret() {
    let tag = "superstar-test/context";
    let mut build = Command::new("docker");
    build
        .args(["build", "--quiet", "--tag", tag, "--file", "-", "."])
        .current_dir(repo())
        .env("DOCKER_BUILDKIT", "0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = build.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"FROM scratch\nCOPY . /context/\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let container = run(&mut docker(&["create", tag, "none"]));
    let exported = Command::new("bash")
        .args([
            "-c",
            &format!("docker export {} | tar -t", container.trim()),
        ])
        .output()
        .unwrap();
    run(&mut docker(&["rm", container.trim()]));
    run(&mut docker(&["rmi", tag]));
    let files = String::from_utf8_lossy(&exported.stdout);
    assert!(
        files.lines().any(|file| file == "context/Cargo.lock"),
        "{files}"
    );
    assert!(
        files
            .lines()
            .any(|file| file == "context/song-producer/src/main.rs")
    );
    for file in files.lines() {
        let inside = file.trim_start_matches("context/");
        for left_out in [
            ".git/",
            "target/",
            ".venv/",
            "data/",
            "certs/",
            "envoy/generated/",
        ] {
            assert!(!inside.starts_with(left_out), "{file} is in the context");
        }
        assert!(
            !inside.ends_with(".pem") && !inside.ends_with(".env") && inside != ".env",
            "{file} is in the context"
        );
    }
}

/// What the Dockerfile relies on in each base image, checked on the images present (real
/// or made by bin/base-images): distroless runs as 65532 and has no shell; the Envoy
/// image has /usr/local/bin/envoy of its tag's version, an `envoy` user and bash; the
/// Rust image's cargo is of its tag's version.
#[test]
#[ignore = "needs a Docker engine and the base images: bin/test runs this"]
fn docker_base_images_have_what_the_dockerfile_relies_on() {
    let listed = run(Command::new("bash")
        .arg(repo().join("bin/base-images"))
        .arg("--list"));
    for image in listed.lines() {
        let in_image = |entrypoint: &str, args: &[&str]| {
            let mut all = vec!["run", "--rm", "--entrypoint", entrypoint, image];
            all.extend_from_slice(args);
            docker(&all).output().unwrap()
        };
        if image.starts_with("gcr.io/distroless/") {
            let user = run(&mut docker(&[
                "image",
                "inspect",
                "--format",
                "{{.Config.User}}",
                image,
            ]));
            assert!(
                matches!(user.trim(), "65532" | "nonroot" | "65532:65532"),
                "{image}: {user}"
            );
            assert!(
                !in_image("/bin/sh", &["-c", "true"]).status.success(),
                "{image} has a shell"
            );
        } else if let Some(version) = image.strip_prefix("envoyproxy/envoy:v") {
            let said = in_image(
                "bash",
                &["-c", "id -u envoy && /usr/local/bin/envoy --version"],
            );
            let said = String::from_utf8_lossy(&said.stdout);
            assert!(said.contains(&format!("/{version}/")), "{image}: {said}");
        } else if let Some(tag) = image.strip_prefix("rust:") {
            let version = tag.trim_end_matches("-bookworm");
            let said = in_image("cargo", &["--version"]);
            let said = String::from_utf8_lossy(&said.stdout);
            assert!(
                said.starts_with(&format!("cargo {version}.")),
                "{image}: {said}"
            );
        }
    }
}

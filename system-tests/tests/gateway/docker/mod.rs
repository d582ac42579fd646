//! `docker compose up`, on a real Docker engine, as the README tells users to run it.
//!
//! bin/test runs these (their names start with `docker_`) after `bin/base-images` and
//! `bin/dev_init.sh` have built the images, and only when a Docker engine answers; it
//! says so in one line when none does. The stack runs as its own compose project, on a
//! throw-away data folder, and is spoken to only through the port it publishes on
//! 127.0.0.1.

mod compose_up;
mod images;
mod secrets;

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
    readme::the_readme_tour,
    up::{KEY, curl, one_at_a_time},
    *,
};

/// The compose project the tests run, apart from a user's own `superstar`.
const PROJECT: &str = "superstar-test";

/// A setting from the checkout's `.env` (which bin/dev_init.sh wrote), read as every
/// tool of ours reads it.
fn dot_env(name: &str) -> String {
    let variables = superstar_settings::env_file::read(&repo().join(".env")).expect(".env");
    variables
        .get(name)
        .cloned()
        .unwrap_or_else(|| panic!("{name} in .env: run bin/dev_init.sh"))
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
    /// Compose profiles to run as well (`monitoring`).
    profiles: Vec<&'static str>,
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
            profiles: Vec::new(),
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
            .env("COMPOSE_PROFILES", self.profiles.join(","))
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

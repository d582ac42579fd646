//! A service binary run as its own process, as an orchestrator runs it.

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    process::{Child, Command, Stdio},
    time::Duration,
};

/// A running service process: the addresses it logged as bound, and the child, which
/// is killed when this is dropped (a test that fails leaves no process behind).
pub struct ServiceProcess {
    /// The process.
    pub child: Child,
    /// Where it serves gRPC.
    pub grpc: SocketAddr,
    /// Where it serves metrics and health.
    pub metrics: SocketAddr,
}

impl ServiceProcess {
    /// Starts `command`, which should bind ports the OS chooses (`LISTEN_ADDR` and
    /// `METRICS_ADDR` of `127.0.0.1:0`), and waits until it logs where it serves. Its
    /// log is read to the end meanwhile, so that it never blocks on a full pipe.
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command
            .stdout(Stdio::piped())
            .spawn()
            .expect("the binary starts");
        let (bound, addresses) = std::sync::mpsc::channel();
        let log = BufReader::new(child.stdout.take().expect("stdout is piped"));
        std::thread::spawn(move || {
            for line in log.lines().map_while(Result::ok) {
                let field = |name: &str| -> Option<SocketAddr> {
                    let start = line.find(&format!("\"{name}\":\""))? + name.len() + 4;
                    line[start..].split('"').next()?.parse().ok()
                };
                if let (Some(grpc), Some(metrics)) = (field("grpc_addr"), field("metrics_addr")) {
                    let _ = bound.send((grpc, metrics));
                }
            }
        });
        let (grpc, metrics) = addresses
            .recv_timeout(Duration::from_secs(60))
            .expect("the binary logs where it serves");
        Self {
            child,
            grpc,
            metrics,
        }
    }

    /// `kill -9`: the process ends at once, with no chance to clean up.
    pub fn kill(&mut self) {
        self.child.kill().expect("the process can be killed");
        self.child.wait().expect("the killed process is reaped");
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The variable naming libfaketime's library, which `bin/test` installs and sets.
pub const LIBFAKETIME_VARIABLE: &str = "SUPERSTAR_LIBFAKETIME";

/// Runs `command` on a wall clock `offset` off the machine's (libfaketime's syntax:
/// `+10s`, `-1m`), as a replica on a host whose clock is wrong. The monotonic clock is
/// left alone: it has no meaning across machines, and timers run on it.
pub fn faketime(command: &mut Command, offset: &str) {
    let library = std::env::var(LIBFAKETIME_VARIABLE).unwrap_or_else(|_| {
        panic!("{LIBFAKETIME_VARIABLE} is not set: run bin/test, which installs libfaketime")
    });
    command
        .env("LD_PRELOAD", library)
        .env("FAKETIME", offset)
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
}

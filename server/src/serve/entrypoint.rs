//! What a service's `main` does, written once.
//!
//! `service` serves until SIGTERM or Ctrl-C, logging JSON. `service --probe` instead
//! asks the running service's `/healthz` (on `METRICS_ADDR`, reached over loopback)
//! and exits 0 when it is serving: the container health check, for images that have
//! no shell and no HTTP client.

use std::{fmt::Display, net::SocketAddr, process::ExitCode};

use superstar_settings::env;

use crate::{serve::metrics, serve::shutdown::Shutdown, serve::telemetry};

/// Runs a service: `serve` gets the shutdown signal and returns when the service has
/// stopped. `name` is for the log; `metrics_port` is the default metrics port.
pub async fn main<F, Fut, E>(name: &str, metrics_port: u16, serve: F) -> ExitCode
where
    F: FnOnce(Shutdown) -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Display,
{
    if std::env::args().nth(1).as_deref() == Some("--probe") {
        return match metrics::probe(probe_addr(metrics_port)).await {
            true => ExitCode::SUCCESS,
            false => ExitCode::FAILURE,
        };
    }
    // The service's name in traces: `song-producer`, as in compose and Kubernetes.
    let _telemetry = telemetry::init(&name.replace(' ', "-"));
    match serve(Shutdown::on_signals()).await {
        Ok(()) => {
            tracing::info!("{name} stopped");
            ExitCode::SUCCESS
        }
        Err(error) => {
            tracing::error!(%error, "{name} failed");
            ExitCode::FAILURE
        }
    }
}

/// The metrics address as seen from inside the same host: an unspecified address
/// (`0.0.0.0`) is reached on loopback.
fn probe_addr(default_port: u16) -> SocketAddr {
    let default = SocketAddr::from(([0, 0, 0, 0], default_port));
    let mut addr = env::parse_or("METRICS_ADDR", default).unwrap_or(default);
    if addr.ip().is_unspecified() {
        addr.set_ip([127, 0, 0, 1].into());
    }
    addr
}

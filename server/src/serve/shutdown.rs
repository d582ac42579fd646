//! Asking a service to stop.
//!
//! A [`Shutdown`] is handed to everything that has to react to the end: the gRPC host
//! (health NOT_SERVING, then drain) and the metrics endpoint. Signals trigger it in
//! production; tests trigger it directly.

use tokio_util::sync::CancellationToken;

/// A cloneable handle: any clone can trigger the shutdown, every clone sees it.
#[derive(Debug, Clone, Default)]
pub struct Shutdown {
    token: CancellationToken,
}

impl Shutdown {
    /// A shutdown that only [`trigger`](Self::trigger) starts.
    pub fn new() -> Self {
        Self::default()
    }

    /// A shutdown that SIGTERM or Ctrl-C starts. Must be called inside a Tokio runtime.
    pub fn on_signals() -> Self {
        let shutdown = Self::new();
        let trigger = shutdown.clone();
        tokio::spawn(async move {
            let signal = wait_for_signal().await;
            tracing::info!(signal, "shutdown requested");
            trigger.trigger();
        });
        shutdown
    }

    /// Starts the shutdown. Calling it again does nothing.
    pub fn trigger(&self) {
        self.token.cancel();
    }

    /// Completes once the shutdown has started.
    pub async fn requested(&self) {
        self.token.cancelled().await;
    }
}

#[cfg(unix)]
async fn wait_for_signal() -> &'static str {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate =
        signal(SignalKind::terminate()).expect("a SIGTERM handler can be installed");
    tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    }
}

#[cfg(not(unix))]
async fn wait_for_signal() -> &'static str {
    let _ = tokio::signal::ctrl_c().await;
    "Ctrl-C"
}

//! Structured logs.
//!
//! Each service writes one JSON object per line to stdout, as container platforms
//! expect. The [`rpc_layer`](crate::rpc_layer) layer opens a span per RPC holding the
//! request id, so every line written while handling a request carries it.
//! `RUST_LOG` sets the filter (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the JSON subscriber for the whole process. Call once, at start.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(true)
        .init();
}

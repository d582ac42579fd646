//! `superstar-bench`: the measuring half of `bin/bench`; its `main` only dispatches.
//!
//! `bin/bench` starts the system as `bin/up` does and calls this binary for each
//! measurement; every subcommand prints one JSON line, and `report` turns the lines
//! into `docs/benchmarks.md`. Subcommands:
//!
//! - `grpc-load`: `GetSong` over gRPC from N concurrent callers for a fixed time,
//!   directly over mTLS or through Envoy over TLS; requests/s, p50, p99;
//! - `stub`: an OpenAI-format chat server that streams a song one token per fixed delay;
//! - `first-line`: time to the first streamed `Jam` delta through Envoy, and to the
//!   stub's own first token, asked for directly;
//! - `jam-rss`: the services' resident memory with N `Jam` streams open;
//! - `local-model`: a one-song album through Envoy against a local model server,
//!   beside the server's own time for the same request;
//! - `fairness`: one client's reads alone, then while another floods the gateway;
//! - `otlp-sink`: an OTLP/gRPC trace receiver that counts spans, for the tracing step;
//! - `h2load-summary`, `wrk-summary`: those tools' output as result lines;
//! - `report`: the result lines as a Markdown page.
//!
//! Only loopback addresses are used, and every load step runs for a fixed time.

pub mod args;
pub mod fairness;
pub mod first_line;
pub mod grpc_load;
pub mod jam_rss;
pub mod local_model;
pub mod otlp_sink;
pub mod report;
pub mod stats;
pub mod stub;

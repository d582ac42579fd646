//! `superstar-bench`: the measuring half of `bin/bench`.
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
//! - `fairness`: one client's reads alone, then while another floods the gateway;
//! - `otlp-sink`: an OTLP/gRPC trace receiver that counts spans, for the tracing step;
//! - `h2load-summary`, `wrk-summary`: those tools' output as result lines;
//! - `report`: the result lines as a Markdown page.
//!
//! Only loopback addresses are used, and every load step runs for a fixed time.

mod args;
mod fairness;
mod first_line;
mod grpc_load;
mod jam_rss;
mod otlp_sink;
mod report;
mod stats;
mod stub;

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!(
            "usage: superstar-bench grpc-load|stub|first-line|jam-rss|fairness|otlp-sink|h2load-summary|wrk-summary|report [--flag value]..."
        );
        return ExitCode::from(2);
    }
    let command = args.remove(0);
    let args = match args::Args::parse(&args) {
        Ok(args) => args,
        Err(error) => {
            eprintln!("superstar-bench: {error}");
            return ExitCode::from(2);
        }
    };
    let result = match command.as_str() {
        "grpc-load" => grpc_load::run(&args).await,
        "stub" => stub::run(&args).await,
        "first-line" => first_line::run(&args).await,
        "jam-rss" => jam_rss::run(&args).await,
        "fairness" => fairness::run(&args).await,
        "otlp-sink" => otlp_sink::run(&args).await,
        "h2load-summary" => report::h2load_summary(&args),
        "wrk-summary" => report::wrk_summary(&args),
        "report" => report::run(&args),
        other => Err(format!("unknown command {other}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("superstar-bench {command}: {error}");
            ExitCode::FAILURE
        }
    }
}

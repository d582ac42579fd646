//! `gateway-config`: renders Envoy's config for a profile.
//!
//! ```text
//! gateway-config --profile local|compose [--env-file .env] [--out envoy/generated]
//! ```
//!
//! Settings come from the env file (read by dotenvy, see `superstar_settings::env_file`),
//! overridden by the same variables in the environment. Writes `envoy-<profile>.yaml` and `superstar.pb` into the out folder.

use std::{path::PathBuf, process::ExitCode};

use gateway_config::{GatewaySettings, Profile};
use superstar_settings::env_file;

fn main() -> ExitCode {
    match run() {
        Ok(path) => {
            println!("wrote {}", path.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("gateway-config: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<PathBuf, String> {
    let mut profile = None;
    let mut env_file = PathBuf::from(".env");
    let mut out = PathBuf::from(gateway_config::GENERATED);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
        match arg.as_str() {
            "--profile" => {
                let name = value()?;
                profile = Some(Profile::parse(&name).ok_or_else(|| format!("unknown profile {name:?}: local or compose"))?);
            }
            "--env-file" => env_file = value()?.into(),
            "--out" => out = value()?.into(),
            "-h" | "--help" => return Err("usage: gateway-config --profile local|compose [--env-file .env] [--out envoy/generated]".into()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    let profile = profile.ok_or("--profile local|compose is required")?;

    let variables = env_file::read_with_environment(&env_file, GatewaySettings::VARIABLES)
        .map_err(|error| error.to_string())?;
    let settings =
        GatewaySettings::from_variables(&variables).map_err(|error| error.to_string())?;
    gateway_config::write(&settings, profile, &out)
        .map_err(|error| format!("{}: {error}", out.display()))?;
    Ok(out.join(format!("envoy-{}.yaml", profile.name())))
}

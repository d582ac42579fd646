//! The cover designer's settings, read from the environment.

use std::net::SocketAddr;

use superstar_runtime::{
    config::{self, ConfigError},
    host::HostSettings,
};

/// Everything the cover designer needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Addresses, certificates, shutdown (see [`HostSettings::from_env`]); defaults
    /// `0.0.0.0:50052`, metrics `0.0.0.0:9102`, `certs/cover-designer.pem`.
    pub host: HostSettings,
    /// `DATABASE_URL`; default `sqlite://data/cover-designer.db`.
    pub database_url: String,
}

impl Settings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            host: HostSettings::from_env(
                "cover-designer",
                SocketAddr::from(([0, 0, 0, 0], 50052)),
                SocketAddr::from(([0, 0, 0, 0], 9102)),
            )?,
            database_url: config::string_or("DATABASE_URL", "sqlite://data/cover-designer.db"),
        })
    }
}

//! The cover designer's settings, read from the environment.

use std::net::SocketAddr;

use secrecy::SecretString;
use superstar_openai::Provider;
use superstar_server::serve::host::HostSettings;
use superstar_settings::{SettingError, env};

/// The image model asked for when `OPENAI_IMAGE_MODEL` is not set: a GPT image model,
/// which always answers with base64 PNG.
pub const DEFAULT_IMAGE_MODEL: &str = "gpt-image-1-mini";

/// Everything the cover designer needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Addresses, certificates, shutdown (see [`HostSettings::from_env`]); defaults
    /// `0.0.0.0:50052`, metrics `0.0.0.0:9102`, `certs/cover-designer.pem`.
    pub host: HostSettings,
    /// `DATABASE_URL`; default `sqlite://data/cover-designer.db`.
    pub database_url: SecretString,
    /// Who paints: OpenAI's images API (`OPENAI_API_KEY`, `OPENAI_BASE_URL`,
    /// `OPENAI_IMAGE_MODEL`) or the offline painter; see [`Provider::from_env`].
    pub provider: Provider,
}

impl Settings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, SettingError> {
        Ok(Self {
            host: HostSettings::from_env(
                "cover-designer",
                SocketAddr::from(([0, 0, 0, 0], 50052)),
                SocketAddr::from(([0, 0, 0, 0], 9102)),
            )?,
            database_url: env::secret_or("DATABASE_URL", "sqlite://data/cover-designer.db"),
            provider: Provider::from_env("OPENAI_IMAGE_MODEL", DEFAULT_IMAGE_MODEL)?,
        })
    }
}

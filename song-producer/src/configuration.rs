//! The song producer's settings, read from the environment.

use std::{net::SocketAddr, time::Duration};
use superstar_settings::{SettingError, env};

use secrecy::SecretString;
use superstar_openai::Provider;
use superstar_server::{calls::balance::Target, serve::host::HostSettings, tls::TlsFiles};

use crate::{budget::BudgetSettings, lyricist::SongRequest};

/// The chat model asked for when `OPENAI_CHAT_MODEL` is not set: small, fast, cheap.
pub const DEFAULT_CHAT_MODEL: &str = "gpt-5-mini";

/// Everything the song producer needs to start.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Addresses, certificates, shutdown (see [`HostSettings::from_env`]); defaults
    /// `0.0.0.0:50051`, metrics `0.0.0.0:9101`, `certs/song-producer.pem`.
    pub host: HostSettings,
    /// `DATABASE_URL`; default `sqlite://data/song-producer.db`.
    pub database_url: SecretString,
    /// How to reach the cover designer.
    pub cover_designer: CoverDesignerSettings,
    /// Who writes the lyrics: OpenAI's chat completions (`OPENAI_API_KEY`,
    /// `OPENAI_BASE_URL`, `OPENAI_CHAT_MODEL`) or the offline lyricist; see
    /// [`Provider::from_env`].
    pub provider: Provider,
    /// How songs are asked of an OpenAI-compatible server: the contract
    /// (`OPENAI_SONG_FORMAT`) and the token cap (`OPENAI_TOKEN_CAP_FIELD`,
    /// `OPENAI_MAX_TOKENS`); see [`SongRequest::from_env`].
    pub song_request: SongRequest,
    /// `OFFLINE_TYPING_DELAY_MS`: the offline lyricist's pause before each piece of text
    /// it streams; default 0.
    pub offline_typing_delay: Duration,
    /// Each client's model-call budget (`MODEL_RATE_PER_SECOND`, `MODEL_BURST`: the
    /// gateway's settings); see [`crate::budget`].
    pub budget: BudgetSettings,
}

/// How the song producer reaches the cover designer.
#[derive(Debug, Clone)]
pub struct CoverDesignerSettings {
    /// `COVER_DESIGNER_URL`; default `https://localhost:50052`: one URL, or several
    /// separated by commas (`bin/up`'s replicas, each on its own port). A host may also
    /// resolve to several replicas (a scaled compose service, a headless Kubernetes
    /// Service); calls are spread over every healthy one (see
    /// [`superstar_server::calls::balance`]). Each host must be a subjectAltName of the cover
    /// designer's certificate.
    pub url: String,
    /// The song producer's client certificate and key (`TLS_CLIENT_CERT`,
    /// `TLS_CLIENT_KEY`; default `certs/song-producer-client.pem` and
    /// `certs/song-producer-client-key.pem`) and the CA (`TLS_CA`).
    pub tls: TlsFiles,
}

impl CoverDesignerSettings {
    /// Where the cover designer's replicas answer: each URL's host (which their
    /// certificate must carry) and port (default 443).
    pub fn targets(&self) -> Result<Vec<Target>, SettingError> {
        let error = |reason: String| SettingError::new("COVER_DESIGNER_URL", reason);
        let targets = self
            .url
            .split(',')
            .map(str::trim)
            .filter(|url| !url.is_empty())
            .map(|url| {
                let uri: http::Uri = url
                    .parse()
                    .map_err(|parse| error(format!("{url:?} is not a URL: {parse}")))?;
                if uri.scheme_str() != Some("https") {
                    return Err(error(format!(
                        "{url:?} must be https://: the cover designer serves TLS only"
                    )));
                }
                let host = uri
                    .host()
                    .map(|host| host.trim_matches(['[', ']']).to_owned())
                    .ok_or_else(|| error(format!("{url:?} has no host")))?;
                Ok(Target {
                    host,
                    port: uri.port_u16().unwrap_or(443),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if targets.is_empty() {
            return Err(error("names no URL".into()));
        }
        Ok(targets)
    }
}

impl Settings {
    /// Reads the settings from the environment.
    pub fn from_env() -> Result<Self, SettingError> {
        let host = HostSettings::from_env(
            "song-producer",
            SocketAddr::from(([0, 0, 0, 0], 50051)),
            SocketAddr::from(([0, 0, 0, 0], 9101)),
        )?;
        let cover_designer = CoverDesignerSettings {
            url: env::string_or("COVER_DESIGNER_URL", "https://localhost:50052"),
            tls: TlsFiles {
                cert: env::string_or("TLS_CLIENT_CERT", "certs/song-producer-client.pem").into(),
                key: env::string_or("TLS_CLIENT_KEY", "certs/song-producer-client-key.pem").into(),
                ca: host.tls.ca.clone(),
            },
        };
        let provider = Provider::from_env("OPENAI_CHAT_MODEL", DEFAULT_CHAT_MODEL)?;
        let song_request = match &provider {
            Provider::OpenAi(openai) => SongRequest::from_env(&openai.base_url)?,
            Provider::Offline => SongRequest::default(),
        };
        Ok(Self {
            host,
            database_url: env::secret_or("DATABASE_URL", "sqlite://data/song-producer.db"),
            cover_designer,
            provider,
            song_request,
            offline_typing_delay: Duration::from_millis(env::parse_or(
                "OFFLINE_TYPING_DELAY_MS",
                0,
            )?),
            budget: BudgetSettings {
                per_second: env::parse_or(
                    "MODEL_RATE_PER_SECOND",
                    BudgetSettings::default().per_second,
                )?,
                burst: env::parse_or("MODEL_BURST", BudgetSettings::default().burst)?,
            },
        })
    }
}

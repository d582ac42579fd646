//! Talking to OpenAI, or to any server that speaks its API, the same way from both
//! services.
//!
//! With `OPENAI_API_KEY` set (or `SUPERSTAR_PROVIDER=openai`), the song producer writes
//! with the chat completions API and the cover designer paints with the images API;
//! without, both use their offline providers ([`Provider`]). What the two providers
//! share lives here:
//!
//! - one way to build the client ([`OpenAiSettings::client`]): `OPENAI_BASE_URL`
//!   points it at any OpenAI-compatible server, and async-openai's own retry layer is
//!   replaced by a transport that keeps what retrying needs (the status, `Retry-After`);
//! - one retry loop ([`RetryPolicy::run`]): 429 and 5xx retried with exponential
//!   backoff and jitter, honouring `Retry-After`, never past the request's deadline;
//! - one list of failures ([`ProviderError`]) and the status each one gives a client.
//!
//! The key is held as a [`SecretString`] here and by async-openai's config (both print
//! as `[REDACTED]`), exposed only to write the `Authorization` header; it is never
//! logged, nor put in an error.

mod failure;
mod retry;
mod transport;

use std::time::Duration;

use async_openai::{Client, config::OpenAIConfig};
pub use failure::ProviderError;
pub use retry::RetryPolicy;
use secrecy::{ExposeSecret, SecretString};
use superstar_settings::{SettingError, env};
use tokio::time::Instant;

/// OpenAI's own API, used when `OPENAI_BASE_URL` is not set.
pub const OPENAI_API_BASE: &str = "https://api.openai.com/v1";

/// How long a provider call may take when the caller set no deadline.
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(120);

/// Which provider a service writes or paints with.
#[derive(Debug, Clone)]
pub enum Provider {
    /// The built-in offline provider: no key, no network, deterministic.
    Offline,
    /// OpenAI, or a server that speaks its API.
    OpenAi(OpenAiSettings),
}

impl Provider {
    /// Reads the choice from the environment:
    ///
    /// - `SUPERSTAR_PROVIDER`: `offline` or `openai`; unset means `openai` when
    ///   `OPENAI_API_KEY` is set, `offline` otherwise;
    /// - `OPENAI_API_KEY`; may stay unset with `SUPERSTAR_PROVIDER=openai` and an
    ///   `OPENAI_BASE_URL`, for local servers that want no key;
    /// - `OPENAI_BASE_URL` (default OpenAI's), `model_variable` (default
    ///   `default_model`; the model `offline` keeps this service offline, for servers
    ///   that have chat but no images, say), `OPENAI_MAX_ATTEMPTS` (default 4),
    ///   `OPENAI_TIMEOUT_SECS` (the budget of a call without a deadline; default 120).
    pub fn from_env(model_variable: &str, default_model: &str) -> Result<Self, SettingError> {
        Self::from_lookup(env::var, model_variable, default_model)
    }

    /// [`from_env`](Self::from_env) with the variables from `lookup`, which answers
    /// `None` for a variable that is unset or empty.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        model_variable: &str,
        default_model: &str,
    ) -> Result<Self, SettingError> {
        let key = lookup("OPENAI_API_KEY");
        let base_url = lookup("OPENAI_BASE_URL");
        let wanted = lookup("SUPERSTAR_PROVIDER").map(|value| value.trim().to_lowercase());
        let openai = match wanted.as_deref() {
            None => key.is_some(),
            Some("offline") => false,
            Some("openai") if key.is_none() && base_url.is_none() => {
                return Err(SettingError::new(
                    "SUPERSTAR_PROVIDER",
                    "`openai` needs OPENAI_API_KEY (or an OPENAI_BASE_URL that wants no key)",
                ));
            }
            Some("openai") => true,
            Some(_) => {
                return Err(SettingError::new(
                    "SUPERSTAR_PROVIDER",
                    "must be `offline` or `openai`",
                ));
            }
        };
        let model = lookup(model_variable).unwrap_or_else(|| default_model.to_owned());
        if !openai || model == "offline" {
            return Ok(Self::Offline);
        }
        let base_url = base_url.unwrap_or_else(|| OPENAI_API_BASE.to_owned());
        if !(base_url.starts_with("http://") || base_url.starts_with("https://")) {
            return Err(SettingError::new(
                "OPENAI_BASE_URL",
                "must be an http:// or https:// URL",
            ));
        }
        let attempts: u32 = env::parse_value(
            "OPENAI_MAX_ATTEMPTS",
            lookup("OPENAI_MAX_ATTEMPTS"),
            RetryPolicy::default().attempts,
        )?;
        if attempts == 0 {
            return Err(SettingError::new(
                "OPENAI_MAX_ATTEMPTS",
                "must be at least 1",
            ));
        }
        let budget = env::parse_value(
            "OPENAI_TIMEOUT_SECS",
            lookup("OPENAI_TIMEOUT_SECS"),
            DEFAULT_BUDGET.as_secs(),
        )?;
        Ok(Self::OpenAi(OpenAiSettings {
            api_key: SecretString::from(key.unwrap_or_default()),
            base_url: base_url.trim_end_matches('/').to_owned(),
            model,
            retry: RetryPolicy {
                attempts,
                ..RetryPolicy::default()
            },
            budget: Duration::from_secs(budget.max(1)),
        }))
    }
}

/// How to reach an OpenAI-compatible server.
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// Printed as `[REDACTED]` by `Debug`.
    api_key: SecretString,
    /// The API's base URL, without a trailing slash (`https://api.openai.com/v1`).
    pub base_url: String,
    /// The model to ask for.
    pub model: String,
    /// How failed calls are retried.
    pub retry: RetryPolicy,
    /// How long one call may take when the caller set no deadline.
    pub budget: Duration,
}

impl OpenAiSettings {
    /// Settings for `base_url` and `model` with the default retries and budget.
    pub fn new(api_key: impl Into<String>, base_url: &str, model: &str) -> Self {
        Self {
            api_key: SecretString::from(api_key.into()),
            base_url: base_url.trim_end_matches('/').to_owned(),
            model: model.to_owned(),
            retry: RetryPolicy::default(),
            budget: DEFAULT_BUDGET,
        }
    }

    /// A client for these settings. Its transport does not retry by itself (the
    /// providers call [`RetryPolicy::run`], which knows the request's deadline) and
    /// turns every non-2xx reply into an error that keeps its status and `Retry-After`.
    pub fn client(&self) -> Client<OpenAIConfig> {
        tracing::info!(
            base_url = self.base_url,
            model = self.model,
            "using an OpenAI-compatible model provider"
        );
        transport::client(self.api_key.expose_secret(), &self.base_url)
    }

    /// When a call must be over: the caller's deadline (the
    /// server's `CallContext::give_up_at`), or the
    /// budget from now when the caller set none.
    pub fn deadline(&self, caller: Option<Instant>) -> Instant {
        caller.unwrap_or_else(|| Instant::now() + self.budget)
    }
}

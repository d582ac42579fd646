//! Every way a provider call can fail, and the status a client sees for each.

use std::time::Duration;

use async_openai::error::OpenAIError;
use superstar_proto::errors;
use tonic::{Code, Status};

use super::transport::HttpFailure;

/// Error codes with which providers say their safety system refused a prompt.
const SAFETY_CODES: [&str; 3] = [
    "content_policy_violation",
    "content_filter",
    "moderation_blocked",
];

/// Why a provider call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ProviderError {
    /// 429 `insufficient_quota`: the account is out of credit. Not retried.
    #[error("the model provider's quota is exhausted")]
    QuotaExhausted,
    /// 429: rate limited, still after the retries the deadline allowed.
    #[error("the model provider is rate limiting us")]
    RateLimited {
        /// How long the provider asked us to wait.
        retry_after: Option<Duration>,
    },
    /// The provider's safety system refused the prompt. Not retried.
    #[error("the model provider's safety system rejected the prompt")]
    Rejected,
    /// The provider refused our own request: the key (401, 403), the model (404) or
    /// the request's shape (other 4xx). Not retried; the operator must act.
    #[error("the model provider refused the service's request (HTTP {status}, {code})")]
    Refused {
        /// The HTTP status (0 when the request could not even be built).
        status: u16,
        /// The provider's error code or type; never its message, which for a bad key
        /// quotes part of the key.
        code: String,
    },
    /// The server refused the request's `response_format` (its error names it, whatever
    /// the status: some answer a format they do not take with a 500). Not retried: the
    /// caller asks again in another form.
    #[error("the model server refused the response format (HTTP {status})")]
    FormatRefused {
        /// The HTTP status.
        status: u16,
    },
    /// 5xx, or the server could not be reached or broke the connection.
    #[error("the model provider is unavailable: {0}")]
    Unavailable(String),
    /// The reply could not be read or is not what was asked for.
    #[error("the model provider's reply is unusable: {0}")]
    Malformed(String),
    /// The reply stopped at the token limit (`finish_reason: "length"`): what came is
    /// the start of an answer, never to be taken for a whole one.
    #[error("the model provider's reply was cut off at the token limit")]
    Truncated,
    /// The request's deadline passed first.
    #[error("the deadline passed before the model provider answered")]
    DeadlineExceeded,
}

impl ProviderError {
    /// Whether another attempt may succeed: rate limits and outages.
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::RateLimited { .. } | Self::Unavailable(_))
    }

    /// How long the provider asked us to wait before the next attempt.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after } => *retry_after,
            _ => None,
        }
    }

    /// The status a client sees. `prompt_field` names the request field whose text
    /// went into the prompt, for when the provider's safety system rejects it. Logs
    /// what the operator needs: an error for [`Refused`](Self::Refused), a warning for
    /// outages and unusable replies.
    pub fn to_status(&self, prompt_field: &str) -> Status {
        match self {
            Self::QuotaExhausted => errors::retry_later(
                "PROVIDER_QUOTA_EXHAUSTED",
                "the model provider's quota is exhausted; try again later",
                QUOTA_RETRY,
            ),
            Self::RateLimited { retry_after } => errors::retry_later(
                "PROVIDER_RATE_LIMITED",
                "the model provider is rate limiting requests; retry later",
                retry_after.unwrap_or(RATE_LIMIT_RETRY),
            ),
            Self::Rejected => errors::invalid_field(
                "PROMPT_REJECTED",
                prompt_field,
                "the model provider's safety system rejected the prompt; rephrase it",
            ),
            Self::Refused { status, code } => {
                tracing::error!(
                    http_status = status,
                    code = code.as_str(),
                    "the model provider refused the service's own request: check OPENAI_API_KEY, OPENAI_BASE_URL and the model settings"
                );
                unavailable("PROVIDER_UNAVAILABLE", "the model provider is unavailable")
            }
            Self::FormatRefused { status } => {
                tracing::error!(
                    http_status = status,
                    "the model server refused every response format it was asked in"
                );
                unavailable("PROVIDER_UNAVAILABLE", "the model provider is unavailable")
            }
            Self::Unavailable(detail) => {
                tracing::warn!(
                    detail = detail.as_str(),
                    "the model provider is unavailable"
                );
                unavailable(
                    "PROVIDER_UNAVAILABLE",
                    "the model provider is unavailable; try again later",
                )
            }
            Self::Malformed(detail) => {
                tracing::warn!(
                    detail = detail.as_str(),
                    "the model provider's reply is unusable"
                );
                unavailable(
                    "PROVIDER_REPLY_UNUSABLE",
                    "the model provider's reply could not be used; try again",
                )
            }
            Self::Truncated => {
                tracing::warn!("the model provider's reply was cut off at the token limit");
                unavailable(
                    "PROVIDER_REPLY_TRUNCATED",
                    "the model provider's reply was cut off before it was finished; try again",
                )
            }
            Self::DeadlineExceeded => errors::error(
                Code::DeadlineExceeded,
                "DEADLINE_EXCEEDED",
                "the deadline passed before the model provider answered",
            ),
        }
    }
}

/// When a client is told to retry after the provider's quota ran out: an operator has
/// to add credit, so not soon.
const QUOTA_RETRY: Duration = Duration::from_secs(60);
/// When a client is told to retry after the provider rate limited us without saying.
const RATE_LIMIT_RETRY: Duration = Duration::from_secs(5);

fn unavailable(reason: &str, message: &str) -> Status {
    errors::error(Code::Unavailable, reason, message)
}

impl From<OpenAIError> for ProviderError {
    fn from(error: OpenAIError) -> Self {
        match error {
            OpenAIError::Boxed(boxed) => match boxed.downcast::<HttpFailure>() {
                Ok(failure) => Self::from(*failure),
                Err(other) => Self::Unavailable(other.to_string()),
            },
            // Our transport fails every non-2xx reply itself, so async-openai does not
            // build these; classified alike should that change.
            OpenAIError::ApiError(api) => Self::from(HttpFailure {
                status: api.status_code.as_u16(),
                retry_after: None,
                code: api.api_error.code,
                kind: api.api_error.r#type,
                message: api.api_error.message,
            }),
            OpenAIError::Reqwest(error) if error.is_decode() => {
                Self::Malformed(without_url(&error))
            }
            OpenAIError::Reqwest(error) => Self::Unavailable(without_url(&error)),
            OpenAIError::JSONDeserialize(error, _) => Self::Malformed(error.to_string()),
            OpenAIError::StreamError(error) => Self::Unavailable(error.to_string()),
            OpenAIError::InvalidArgument(reason) => Self::Refused {
                status: 0,
                code: reason,
            },
            other => Self::Unavailable(other.to_string()),
        }
    }
}

impl From<HttpFailure> for ProviderError {
    fn from(failure: HttpFailure) -> Self {
        let code = failure.code.as_deref().unwrap_or_default();
        let kind = failure.kind.as_deref().unwrap_or_default();
        if failure.status >= 400 && failure.status != 429 && names_response_format(&failure) {
            return Self::FormatRefused {
                status: failure.status,
            };
        }
        match failure.status {
            429 if code == "insufficient_quota" || kind == "insufficient_quota" => {
                Self::QuotaExhausted
            }
            429 => Self::RateLimited {
                retry_after: failure.retry_after,
            },
            400 if SAFETY_CODES.contains(&code) || failure.message.contains("safety system") => {
                Self::Rejected
            }
            500..=599 => Self::Unavailable(format!("HTTP {}: {}", failure.status, failure.message)),
            status => Self::Refused {
                status,
                code: [code, kind]
                    .into_iter()
                    .find(|text| !text.is_empty())
                    .unwrap_or("no code")
                    .to_owned(),
            },
        }
    }
}

/// Whether a failure is about the request's `response_format`: its message, code or
/// type names it (OpenAI: "Invalid parameter: 'response_format' …"; llama.cpp and vLLM
/// name the field too). A failure for another reason (a prompt too long, a proxy's
/// validation) is not one, and switches no format.
fn names_response_format(failure: &HttpFailure) -> bool {
    [
        Some(failure.message.as_str()),
        failure.code.as_deref(),
        failure.kind.as_deref(),
    ]
    .into_iter()
    .flatten()
    .any(|text| text.contains("response_format"))
}

/// reqwest's message without the URL, which may carry a query string.
fn without_url(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else if error.is_body() || error.is_decode() {
        "the reply broke off"
    } else {
        "request failed"
    };
    match std::error::Error::source(error) {
        Some(source) => format!("{kind}: {source}"),
        None => kind.to_owned(),
    }
}

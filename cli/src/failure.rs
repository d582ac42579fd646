//! What went wrong, as one readable line and an exit code a script can tell apart.

use std::process::ExitCode;

use tonic::{Code, Status};
use tonic_types::StatusExt;

/// The exit codes, as `--help` lists them.
pub const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  anything else (the message says what)
  2  usage: a bad flag or argument, or a request the API refused as invalid
  3  auth: no API key, or one the gateway does not know
  4  not found: no song, album or cover with that id
  5  unavailable: the gateway or a model provider did not answer in time
  6  rate limited: the client's limit is spent (the message says when to retry)";

/// Which kind of failure, and so which exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Anything else.
    Other = 1,
    /// The command line was wrong.
    Usage = 2,
    /// The key was missing or refused.
    Auth = 3,
    /// No such song or album.
    NotFound = 4,
    /// The gateway or a service could not be reached, or gave up.
    Unavailable = 5,
    /// A rate limit or the model's quota: try again later.
    RateLimited = 6,
}

/// A failure: its kind and the line to print.
#[derive(Debug)]
pub struct Failure {
    /// Which exit code.
    pub kind: Kind,
    /// What went wrong, one line.
    pub message: String,
}

impl Failure {
    /// A failure of `kind`, saying `message`.
    pub fn new(kind: Kind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }

    /// A status from the gateway, `what` naming the call, with the request id to quote
    /// to whoever reads the logs: the gateway's when the reply carries one, else ours.
    pub fn from_status(what: &str, status: &Status, sent_request_id: &str) -> Self {
        let kind = match status.code() {
            Code::Unauthenticated | Code::PermissionDenied => Kind::Auth,
            Code::NotFound => Kind::NotFound,
            Code::Unavailable | Code::DeadlineExceeded => Kind::Unavailable,
            Code::ResourceExhausted => Kind::RateLimited,
            Code::InvalidArgument | Code::OutOfRange => Kind::Usage,
            _ => Kind::Other,
        };
        let header = |name: &str| {
            status
                .metadata()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let request_id = header("x-request-id").unwrap_or_else(|| sent_request_id.to_owned());
        let mut message = format!("{what}: {}", describe(status));
        if kind == Kind::RateLimited {
            // A service says when in a RetryInfo (AIP-193); the gateway's own limit in
            // its x-ratelimit-reset header.
            let retry_info = status
                .get_details_retry_info()
                .and_then(|info| info.retry_delay)
                .map(|delay| format!("{:.1}", delay.as_secs_f64()));
            match retry_info.or_else(|| header("x-ratelimit-reset")) {
                Some(seconds) => message += &format!("; retry in {seconds} s"),
                None => message += "; retry in a few seconds",
            }
        }
        message += &format!(" (request id {request_id})");
        Self { kind, message }
    }

    /// The exit code of this failure's kind.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind as u8)
    }
}

/// The status's own message, or what its code means when it has none. A message the
/// gateway sends as JSON (`{"code": …, "message": …}`) is shown by its `message`.
fn describe(status: &Status) -> String {
    let message = status.message().trim();
    if let Ok(json) = serde_json::from_str::<serde_json::Value>(message)
        && let Some(inner) = json["message"].as_str()
    {
        return inner.to_owned();
    }
    if message.is_empty() {
        return format!("{:?}", status.code()).to_lowercase();
    }
    // A transport error's message is long and nested; its first line says enough.
    message.lines().next().unwrap_or(message).to_owned()
}

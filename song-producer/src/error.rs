//! The song producer's errors and the one place they become gRPC statuses.

use superstar_proto::errors;
use superstar_server::{
    serve::request_fields::InvalidField,
    storage::idempotency::{ClaimError, IdempotencyError},
};
use tonic::{Code, Status};

use crate::{budget::OverBudget, lyricist::LyricsError};

/// Everything that can go wrong while handling a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field breaks the contract.
    #[error(transparent)]
    InvalidArgument(#[from] InvalidField),
    /// No song has this id.
    #[error("song {0} not found")]
    SongNotFound(uuid::Uuid),
    /// No album has this id.
    #[error("album {0} not found")]
    AlbumNotFound(uuid::Uuid),
    /// The lyricist failed.
    #[error(transparent)]
    Lyrics(#[from] LyricsError),
    /// The cover designer answered with an error, or could not be reached.
    #[error("cover designer: {}", .0.message())]
    CoverDesigner(Status),
    /// The cover designer refused the cover's prompt, made from the request's `field`
    /// (`cover_description` when the client wrote one, else `theme`).
    #[error("{field}: {}", prompt_reason(.status))]
    CoverPrompt {
        /// The request field the prompt was made from.
        field: &'static str,
        /// The cover designer's `INVALID_ARGUMENT`.
        status: Status,
    },
    /// The client's model-call budget does not hold the calls the request needs.
    #[error(transparent)]
    OverBudget(#[from] OverBudget),
    /// The request id cannot be used, or its first request's reply not read.
    #[error(transparent)]
    RequestId(#[from] IdempotencyError),
    /// The album could not be stored as its request id's reply.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The caller went away before the album was stored; nothing was kept.
    #[error("the caller went away; nothing was stored")]
    CallerGone,
    /// The caller's deadline passed before the album was stored; nothing was kept.
    #[error("the deadline passed before the album was stored; nothing was stored")]
    DeadlineExceeded,
    /// The database failed.
    #[error("storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

/// The cover designer's reason for refusing a prompt, without its own field's name.
fn prompt_reason(status: &Status) -> &str {
    let reason = status.message();
    reason.strip_prefix("description: ").unwrap_or(reason)
}

impl Error {
    /// This error of the cover designer's as the album's: a refused prompt names
    /// `field`, the request field the prompt was made from.
    pub fn of_cover_prompt(self, field: &'static str) -> Self {
        match self {
            Self::CoverDesigner(status) if status.code() == Code::InvalidArgument => {
                Self::CoverPrompt { field, status }
            }
            other => other,
        }
    }
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::SongNotFound(_) => errors::error(Code::NotFound, "SONG_NOT_FOUND", message),
            Error::AlbumNotFound(_) => errors::error(Code::NotFound, "ALBUM_NOT_FOUND", message),
            // The cover designer names its own field; the client wrote it as one of ours.
            Error::CoverPrompt { field, status } => {
                let reason = errors::reason(&status).unwrap_or_else(|| "INVALID_FIELD".into());
                errors::invalid_field(&reason, field, prompt_reason(&status))
            }
            Error::CoverDesigner(status) => match status.code() {
                // What the client can act on passes through, details (RetryInfo) and all;
                // the rest means the cover designer is not working right now.
                code @ (Code::ResourceExhausted | Code::DeadlineExceeded | Code::Cancelled) => {
                    Status::with_details(code, message, status.details().to_vec().into())
                }
                _ => {
                    tracing::warn!(code = ?status.code(), message = status.message(), "cover designer failed");
                    errors::error(
                        Code::Unavailable,
                        "COVER_DESIGNER_UNAVAILABLE",
                        "the cover designer is unavailable",
                    )
                }
            },
            Error::OverBudget(over) => {
                errors::retry_later("MODEL_BUDGET_EXHAUSTED", message, over.retry_after)
            }
            Error::RequestId(error) => error.to_status(),
            Error::Claim(ClaimError::Lost) => errors::error(Code::Aborted, "CLAIM_LOST", message),
            Error::CallerGone => errors::error(Code::Cancelled, "CALLER_GONE", message),
            Error::DeadlineExceeded => {
                errors::error(Code::DeadlineExceeded, "DEADLINE_EXCEEDED", message)
            }
            // The theme is what the client wrote into the prompt.
            Error::Lyrics(provider) => provider.to_status("theme"),
            Error::Storage(_) | Error::Claim(ClaimError::Storage(_)) => {
                // The details are for the operator, not the client.
                tracing::error!(error = message, "request failed");
                errors::error(Code::Internal, "INTERNAL", "internal error")
            }
        }
    }
}

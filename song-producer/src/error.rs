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

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        let message = error.to_string();
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::SongNotFound(_) => errors::error(Code::NotFound, "SONG_NOT_FOUND", message),
            Error::AlbumNotFound(_) => errors::error(Code::NotFound, "ALBUM_NOT_FOUND", message),
            Error::CoverDesigner(status) => match status.code() {
                // The cover designer names its own field; the client wrote it as ours.
                Code::InvalidArgument => {
                    let reason = status.message();
                    let reason = reason.strip_prefix("description: ").unwrap_or(reason);
                    errors::invalid_field("INVALID_FIELD", "cover_description", reason)
                }
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

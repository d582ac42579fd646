//! The cover designer's errors and the one place they become gRPC statuses.

use superstar_proto::errors;
use superstar_server::{
    serve::request_fields::InvalidField,
    storage::idempotency::{ClaimError, IdempotencyError},
};
use tonic::{Code, Status};

use crate::painter::PaintError;

/// Everything that can go wrong while handling a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request field breaks the contract.
    #[error(transparent)]
    InvalidArgument(#[from] InvalidField),
    /// No cover has this id.
    #[error("cover {0} not found")]
    NotFound(uuid::Uuid),
    /// The painter failed.
    #[error(transparent)]
    Paint(#[from] PaintError),
    /// The request id cannot be used, or its first request's reply not read.
    #[error(transparent)]
    RequestId(#[from] IdempotencyError),
    /// The order's claim was lost while it was painted: withdrawn, or its lease lapsed.
    #[error(transparent)]
    Claim(#[from] ClaimError),
    /// The database failed.
    #[error("storage failed: {0}")]
    Storage(#[from] sqlx::Error),
}

impl From<Error> for Status {
    fn from(error: Error) -> Self {
        match error {
            Error::InvalidArgument(field) => field.into(),
            Error::NotFound(_) => {
                errors::error(Code::NotFound, "COVER_NOT_FOUND", error.to_string())
            }
            Error::RequestId(error) => error.to_status(),
            Error::Claim(ClaimError::Lost) => {
                errors::error(Code::Aborted, "CLAIM_LOST", error.to_string())
            }
            // The description is what the client wrote into the prompt.
            Error::Paint(PaintError::Provider(provider)) => provider.to_status("description"),
            Error::Paint(PaintError::Failed(_))
            | Error::Storage(_)
            | Error::Claim(ClaimError::Storage(_)) => {
                // The details are for the operator, not the client.
                tracing::error!(error = %error, "request failed");
                errors::error(Code::Internal, "INTERNAL", "internal error")
            }
        }
    }
}

//! Statuses that a program can act on (Google's AIP-193): every error our handlers and
//! layers send carries a `google.rpc.ErrorInfo` (a reason in UPPER_SNAKE_CASE and the
//! domain [`DOMAIN`]), an `INVALID_ARGUMENT` a `google.rpc.BadRequest` naming the field,
//! and a `RESOURCE_EXHAUSTED` a `google.rpc.RetryInfo` saying when to retry.
//!
//! Not the statuses tonic makes itself before a handler runs or after it gave up:
//! `UNIMPLEMENTED` for a method no service has, `INTERNAL` for a message it cannot
//! decode, `CANCELLED` when the caller's own `grpc-timeout` passes. They carry a code
//! and a message only; a client reads their code. (Nor the gateway's own refusals,
//! which carry Envoy's JSON body or `grpc-message`: see docs/api.md.)
//!
//! The details travel in `grpc-status-details-bin`; through the gateway's transcoder
//! they become the JSON error's `details` (the descriptor set carries their types).
//! The message stays a sentence for people; the details are for programs, and a
//! reason, once sent, is part of the contract.

use std::{collections::HashMap, time::Duration};

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error our services send.
pub const DOMAIN: &str = "superstar.v1";

/// `code` with `message`, and an `ErrorInfo` giving `reason`.
pub fn error(code: Code, reason: &str, message: impl Into<String>) -> Status {
    Status::with_error_details(code, message, info(reason))
}

/// `INVALID_ARGUMENT`: `field` (as the proto spells it) breaks the contract because of
/// `description`. The message reads `field: description`; a `BadRequest` names the
/// field, and the `ErrorInfo` reason is `reason`.
pub fn invalid_field(reason: &str, field: &str, description: &str) -> Status {
    let mut details = info(reason);
    details.add_bad_request_violation(field, description);
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        details,
    )
}

/// `RESOURCE_EXHAUSTED`, with a `RetryInfo` of `retry_after` (rounded up to whole
/// milliseconds, never zero) and an `ErrorInfo` giving `reason`.
pub fn retry_later(reason: &str, message: impl Into<String>, retry_after: Duration) -> Status {
    let retry_after = retry_after.max(Duration::from_millis(1));
    let mut details = info(reason);
    details.set_retry_info(Some(Duration::from_millis(
        retry_after.as_nanos().div_ceil(1_000_000) as u64,
    )));
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

fn info(reason: &str) -> ErrorDetails {
    ErrorDetails::with_error_info(reason, DOMAIN, HashMap::new())
}

/// The `ErrorInfo` reason of a status one of our services sent, if it carries one.
pub fn reason(status: &Status) -> Option<String> {
    status
        .get_error_details()
        .error_info()
        .filter(|info| info.domain == DOMAIN)
        .map(|info| info.reason.clone())
}

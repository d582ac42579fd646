//! Request fields that break the contract.
//!
//! Parsing a request into domain types either succeeds or yields an [`InvalidField`]
//! that names the field as the client spelled it in the proto, so the client can tell
//! which one to fix. Every service maps it to `INVALID_ARGUMENT` (HTTP 400 through
//! the gateway).

use std::fmt;

/// A request field that breaks the contract, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct InvalidField {
    /// The field's proto name, e.g. `theme` or `read_mask`.
    pub field: &'static str,
    /// What is wrong, in words a client can act on.
    pub reason: String,
}

impl InvalidField {
    /// `field` is invalid because of `reason`.
    pub fn new(field: &'static str, reason: impl fmt::Display) -> Self {
        Self {
            field,
            reason: reason.to_string(),
        }
    }
}

/// `INVALID_ARGUMENT` naming the field, in words and in a `BadRequest` (reason
/// `INVALID_FIELD`).
impl From<InvalidField> for tonic::Status {
    fn from(invalid: InvalidField) -> Self {
        superstar_proto::errors::invalid_field("INVALID_FIELD", invalid.field, &invalid.reason)
    }
}

/// Text of at most `max` characters (Unicode scalar values, as sent) and, trimmed of
/// surrounding white space, at least `min`. The trimmed text is returned, so stored
/// values carry no stray spaces. The bound counts what was sent, as the OpenAPI
/// document's `maxLength` does, so that a client's own check and ours agree.
pub fn bounded_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, InvalidField> {
    let trimmed = value.trim();
    let kept = trimmed.chars().count();
    if kept < min {
        return Err(if kept == 0 {
            InvalidField::new(field, "is required")
        } else {
            InvalidField::new(field, format!("must be at least {min} characters"))
        });
    }
    let length = value.chars().count();
    if length > max {
        return Err(InvalidField::new(
            field,
            format!("must be at most {max} characters, got {length}"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A count of `1..=max`, where the proto default 0 means `default`.
pub fn bounded_count(
    field: &'static str,
    value: i32,
    default: usize,
    max: usize,
) -> Result<usize, InvalidField> {
    match usize::try_from(value) {
        Ok(0) => Ok(default),
        Ok(count) if count <= max => Ok(count),
        _ => Err(InvalidField::new(
            field,
            format!("must be between 0 and {max} (0 means {default}), got {value}"),
        )),
    }
}

/// A resource id: a UUID in its hyphenated form. Anything else is not an id we could
/// have issued, so it is `INVALID_ARGUMENT` rather than `NOT_FOUND`.
pub fn resource_id(field: &'static str, value: &str) -> Result<uuid::Uuid, InvalidField> {
    if value.is_empty() {
        return Err(InvalidField::new(field, "is required"));
    }
    hyphenated_uuid(value).ok_or_else(|| InvalidField::new(field, "is not a valid id (a UUID)"))
}

/// A UUID in its hyphenated form (`0b6c1d6e-3a6f-4c8e-9f41-2d3c6f0e8a11`, either case),
/// the one spelling the API documents; the uuid crate would also take the simple,
/// braced and URN forms.
pub fn hyphenated_uuid(value: &str) -> Option<uuid::Uuid> {
    (value.len() == 36)
        .then(|| uuid::Uuid::try_parse(value).ok())
        .flatten()
}

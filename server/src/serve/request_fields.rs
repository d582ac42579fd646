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

/// Text of `min..=max` characters (Unicode scalar values) after trimming surrounding
/// white space. The trimmed text is returned, so stored values carry no stray spaces.
pub fn bounded_text(
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> Result<String, InvalidField> {
    let trimmed = value.trim();
    let length = trimmed.chars().count();
    if length < min {
        return Err(if length == 0 {
            InvalidField::new(field, "is required")
        } else {
            InvalidField::new(field, format!("must be at least {min} characters"))
        });
    }
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
    uuid::Uuid::try_parse(value).map_err(|_| InvalidField::new(field, "is not a valid id (a UUID)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_counted_in_characters() {
        assert_eq!(bounded_text("theme", "  zażółć  ", 1, 6).unwrap(), "zażółć");
        let error = bounded_text("theme", "zażółć!", 1, 6).unwrap_err();
        assert_eq!(
            error.to_string(),
            "theme: must be at most 6 characters, got 7"
        );
    }

    #[test]
    fn blank_text_is_required() {
        let error = bounded_text("genre", "   ", 1, 64).unwrap_err();
        assert_eq!(error, InvalidField::new("genre", "is required"));
    }

    #[test]
    fn counts_default_from_zero_and_stop_at_their_maximum() {
        assert_eq!(bounded_count("page_size", 0, 20, 100), Ok(20));
        assert_eq!(bounded_count("page_size", 100, 20, 100), Ok(100));
        for bad in [-1, 101, i32::MIN] {
            let error = bounded_count("page_size", bad, 20, 100).unwrap_err();
            assert_eq!(error.field, "page_size");
            assert!(error.reason.ends_with(&format!("got {bad}")), "{error}");
        }
    }

    #[test]
    fn ids_must_be_uuids() {
        assert!(resource_id("id", "0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e").is_ok());
        assert_eq!(resource_id("id", "nope").unwrap_err().field, "id");
        assert_eq!(resource_id("id", "").unwrap_err().reason, "is required");
    }
}

//! A request's fields, parsed and named back in errors.

use superstar_server::serve::request_fields::*;

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

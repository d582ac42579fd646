//! A request's fields, parsed and named back in errors.

use superstar_server::serve::request_fields::*;

#[test]
fn text_is_trimmed_and_counted_in_characters_as_sent() {
    assert_eq!(
        bounded_text("theme", "  zażółć  ", 1, 10).unwrap(),
        "zażółć"
    );
    let error = bounded_text("theme", "zażółć!", 1, 6).unwrap_err();
    assert_eq!(
        error.to_string(),
        "theme: must be at most 6 characters, got 7"
    );
    // Spaces count towards the most, as the OpenAPI document's maxLength counts them.
    let error = bounded_text("theme", " zażółć", 1, 6).unwrap_err();
    assert_eq!(error.reason, "must be at most 6 characters, got 7");
}

#[test]
fn ids_are_uuids_in_their_hyphenated_form() {
    let id = "0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e";
    assert_eq!(resource_id("id", id).unwrap().to_string(), id);
    assert!(resource_id("id", &id.to_uppercase()).is_ok());
    for other in [
        "0195f0a47c3e7d529d1c3f1a2b3c4d5e",
        "{0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e}",
        "urn:uuid:0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e",
        " 0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e",
        "",
    ] {
        assert_eq!(resource_id("id", other).unwrap_err().field, "id", "{other}");
    }
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

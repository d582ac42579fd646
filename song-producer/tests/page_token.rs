//! Page tokens: they round-trip, and anything else is refused naming `page_token`.

use song_producer::page_token::{Cursor, decode, encode};
use uuid::Uuid;

fn cursor() -> Cursor {
    Cursor {
        create_time: 1_790_000_000_000_000,
        id: Uuid::now_v7(),
    }
}

#[test]
fn tokens_round_trip() {
    let cursor = cursor();
    assert_eq!(decode(&encode(cursor, "jazz"), "jazz").unwrap(), cursor);
}

#[test]
fn forged_and_foreign_tokens_are_rejected() {
    let token = encode(cursor(), "");
    let mut tampered = token.clone().into_bytes();
    tampered[5] = if tampered[5] == b'A' { b'B' } else { b'A' };
    for forged in [
        "",
        "abc",
        "not a token!",
        &String::from_utf8(tampered).unwrap(),
    ] {
        let error = decode(forged, "").unwrap_err();
        assert_eq!(error.field, "page_token", "{forged:?}");
    }
    assert!(decode(&token, "jazz").unwrap_err().reason.contains("genre"));
}

//! Opaque page tokens for `ListSongs` and `ListAlbums`.
//!
//! A token is the position after the last song (or album) of a page (its time and id:
//! both are listed newest first, ties broken by id) bound to the listing it was issued
//! for (the songs of a genre filter, or [`ALBUMS`]), with a checksum (the first 8 bytes
//! of its SHA-256). It is base64url, so it travels in a URL as it is. A token that does
//! not decode, fails its checksum, or was issued for another listing is
//! `INVALID_ARGUMENT`.
//!
//! The checksum catches a token cut short, mistyped or taken from another listing; it is
//! not a signature: anyone who reads this can make a token. That is harmless, as the
//! position inside is only where a listing the caller may read anyway resumes.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};
use superstar_server::serve::request_fields::InvalidField;
use uuid::Uuid;

const VERSION: u8 = 1;

/// What `ListAlbums` binds its tokens to, in place of a genre filter: no genre's key
/// (those are printable), so a songs token is refused by it and an albums token by
/// `ListSongs`.
pub const ALBUMS: &str = "\0albums";
const LENGTH: usize = 1 + 8 + 16 + 8 + 8;

/// Where the next page starts: just after this song.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// The last listed item's creation time, in microseconds.
    pub create_time: i64,
    /// The last listed item's id.
    pub id: Uuid,
}

/// The token for the page after `cursor`, listing `genre_key` (empty for every genre).
pub fn encode(cursor: Cursor, genre_key: &str) -> String {
    let mut bytes = Vec::with_capacity(LENGTH);
    bytes.push(VERSION);
    bytes.extend_from_slice(&cursor.create_time.to_be_bytes());
    bytes.extend_from_slice(cursor.id.as_bytes());
    bytes.extend_from_slice(&digest(&[b"listing", genre_key.as_bytes()]).to_be_bytes());
    let checksum = checksum(&bytes);
    bytes.extend_from_slice(&checksum.to_be_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Reads a token issued by [`encode`] for the same genre filter.
pub fn decode(token: &str, genre_key: &str) -> Result<Cursor, InvalidField> {
    let invalid = || InvalidField::new("page_token", "is not a token this service issued");
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| invalid())?;
    if bytes.len() != LENGTH || bytes[0] != VERSION {
        return Err(invalid());
    }
    let (payload, sum) = bytes.split_at(LENGTH - 8);
    if checksum(payload).to_be_bytes() != sum {
        return Err(invalid());
    }
    if payload[25..33] != digest(&[b"listing", genre_key.as_bytes()]).to_be_bytes() {
        return Err(InvalidField::new(
            "page_token",
            "was issued for another listing (another genre filter, or songs, not albums); start again without a token",
        ));
    }
    Ok(Cursor {
        create_time: i64::from_be_bytes(payload[1..9].try_into().expect("8 bytes")),
        id: Uuid::from_slice(&payload[9..25]).expect("16 bytes"),
    })
}

/// Where a page starts: nowhere before the first (an empty token), else the position a
/// token issued for `listing` names.
pub fn start(token: &str, listing: &str) -> Result<Option<Cursor>, InvalidField> {
    match token {
        "" => Ok(None),
        token => decode(token, listing).map(Some),
    }
}

/// The `next_page_token` of a page that ends at `next` (none: the last page, empty).
pub fn next(next: Option<Cursor>, listing: &str) -> String {
    next.map(|cursor| encode(cursor, listing))
        .unwrap_or_default()
}

fn checksum(payload: &[u8]) -> u64 {
    digest(&[b"checksum", payload])
}

/// The first 8 bytes of the SHA-256 of `parts`, each after a domain string (so that no
/// other format's bytes pass for a token's) and its own length.
fn digest(parts: &[&[u8]]) -> u64 {
    let mut hash = Sha256::new();
    hash.update(b"superstar.v1 page token");
    for part in parts {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    u64::from_be_bytes(hash.finalize()[..8].try_into().expect("8 bytes"))
}

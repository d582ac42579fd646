//! What a song is about: its genre and its theme, as a client asks for them.

use superstar_server::serve::request_fields::{InvalidField, bounded_text};

/// A genre: 1 to 64 characters, e.g. `heavy metal`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genre(String);

impl Genre {
    /// Parses the `genre` field.
    pub fn parse(value: &str) -> Result<Self, InvalidField> {
        bounded_text("genre", value, 1, 64).map(Self)
    }

    /// The genre as the client wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The genre of an album whose tracks differ in genre.
    pub(super) fn various() -> Self {
        Self("various".to_owned())
    }

    /// The genre lower-cased with single spaces, so `Heavy  Metal` and `heavy metal`
    /// list together.
    pub fn key(&self) -> String {
        genre_key(&self.0)
    }
}

/// The comparison key of a genre filter or a stored genre (see [`Genre::key`]).
pub fn genre_key(genre: &str) -> String {
    genre
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// What a song is about: 1 to 500 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Theme(String);

impl Theme {
    /// Parses the `theme` field.
    pub fn parse(value: &str) -> Result<Self, InvalidField> {
        bounded_text("theme", value, 1, 500).map(Self)
    }

    /// The theme of an album whose tracks differ: theirs joined by `; `, cut at 500
    /// characters. `themes` must not be empty.
    pub(super) fn joined<'a>(themes: impl IntoIterator<Item = &'a Theme>) -> Self {
        let themes: Vec<&str> = themes.into_iter().map(Theme::as_str).collect();
        debug_assert!(!themes.is_empty());
        Self(themes.join("; ").chars().take(500).collect())
    }

    /// The theme as the client wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

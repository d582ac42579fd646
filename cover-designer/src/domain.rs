//! What a cover is painted from, parsed from a request.

use superstar_proto::v1::DesignCoverRequest;
use superstar_server::serve::request_fields::{InvalidField, bounded_text};

/// A valid request to paint a cover: a description, and optionally the album's title
/// and genre. Once built it cannot be invalid, so the painters need not check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverBrief {
    description: String,
    title: String,
    genre: String,
}

impl CoverBrief {
    /// Description 1 to 1000 characters, title up to 200, genre up to 64.
    pub fn parse(request: DesignCoverRequest) -> Result<Self, InvalidField> {
        Ok(Self {
            description: bounded_text("description", &request.description, 1, 1000)?,
            title: bounded_text("title", &request.title, 0, 200)?,
            genre: bounded_text("genre", &request.genre, 0, 64)?,
        })
    }

    /// What the cover should show.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// The album's title; empty when not given.
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The album's genre; empty when not given.
    pub fn genre(&self) -> &str {
        &self.genre
    }
}

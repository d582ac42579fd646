//! What a lyricist is asked for: one take of one song, or a revision of a take.

use super::{Genre, Instruction, SongsCount, Theme, WrittenSong};

/// Everything a lyricist needs for one take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SongBrief {
    /// The genre.
    pub genre: Genre,
    /// The theme.
    pub theme: Theme,
    /// The song's place among the songs made by one request, from 1: songs on one
    /// theme must still differ from each other.
    pub track: usize,
    /// For a Jam revision: the previous take and what to change.
    pub revision: Option<Revision>,
}

impl SongBrief {
    /// A first take of a song.
    pub fn new(genre: Genre, theme: Theme) -> Self {
        Self {
            genre,
            theme,
            track: 1,
            revision: None,
        }
    }

    /// Briefs for `count` different songs in one genre on one theme.
    pub fn tracks(genre: &Genre, theme: &Theme, count: SongsCount) -> Vec<Self> {
        (1..=count.get())
            .map(|track| Self {
                track,
                ..Self::new(genre.clone(), theme.clone())
            })
            .collect()
    }
}

/// A request to rewrite a take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revision {
    /// The take being revised.
    pub previous: WrittenSong,
    /// What to change.
    pub instruction: Instruction,
    /// The number of the new take (2 for the first revision).
    pub take: u32,
}

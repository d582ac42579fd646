//! An album, planned from a request: how many tracks, on what, and its cover.

use superstar_proto::v1::MakeMeSuperstarRequest;
use superstar_server::serve::request_fields::{InvalidField, bounded_count, bounded_text};

use super::{Genre, SongBrief, Theme};

/// How many songs to make: 1 to 10 (a request's 0 means 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SongsCount(usize);

impl SongsCount {
    /// The most songs one request may make: each one is a model call.
    pub const MAX: usize = 10;

    /// Parses the `songs_count` field.
    pub fn parse(value: i32) -> Result<Self, InvalidField> {
        bounded_count("songs_count", value, 1, Self::MAX).map(Self)
    }

    /// The count.
    pub fn get(self) -> usize {
        self.0
    }
}

/// What the cover should show: up to 1000 characters; empty means "derive it".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoverDescription(Option<String>);

impl CoverDescription {
    /// Parses the `cover_description` field.
    pub fn parse(value: &str) -> Result<Self, InvalidField> {
        let text = bounded_text("cover_description", value, 0, 1000)?;
        Ok(Self((!text.is_empty()).then_some(text)))
    }

    /// The description, unless the client left it to us.
    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }
}

/// What an album is made of: its tracks and what its cover should show.
///
/// Its fields are private so that a plan stays as it was parsed: 1 to 10 tracks, a
/// genre and a theme that are valid ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumPlan {
    genre: Genre,
    theme: Theme,
    tracks: Vec<SongBrief>,
    cover_description: CoverDescription,
}

impl AlbumPlan {
    /// The album of a `MakeMeSuperstar` request.
    pub fn parse(request: &MakeMeSuperstarRequest) -> Result<Self, InvalidField> {
        let genre = Genre::parse(&request.genre)?;
        let theme = Theme::parse(&request.theme)?;
        let count = SongsCount::parse(request.songs_count)?;
        Ok(Self {
            tracks: SongBrief::tracks(&genre, &theme, count),
            genre,
            theme,
            cover_description: CoverDescription::parse(&request.cover_description)?,
        })
    }

    /// The album of a `CompileAlbum` stream: one track per idea, 1 to 10 ideas.
    pub fn from_ideas(ideas: Vec<(Genre, Theme)>) -> Result<Self, InvalidField> {
        if ideas.is_empty() || ideas.len() > SongsCount::MAX {
            return Err(InvalidField::new(
                "ideas",
                format!(
                    "send 1 to {} song ideas, got {}",
                    SongsCount::MAX,
                    ideas.len()
                ),
            ));
        }
        let all_same = |key: &dyn Fn(&(Genre, Theme)) -> String| {
            ideas.iter().all(|idea| key(idea) == key(&ideas[0]))
        };
        let genre = match all_same(&|(genre, _)| genre.key()) {
            true => ideas[0].0.clone(),
            false => Genre::various(),
        };
        let theme = match all_same(&|(_, theme)| theme.as_str().to_owned()) {
            true => ideas[0].1.clone(),
            false => Theme::joined(ideas.iter().map(|(_, theme)| theme)),
        };
        let tracks = (1..)
            .zip(ideas)
            .map(|(track, (genre, theme))| SongBrief {
                track,
                ..SongBrief::new(genre, theme)
            })
            .collect();
        Ok(Self {
            genre,
            theme,
            tracks,
            cover_description: CoverDescription(None),
        })
    }

    /// The album's genre: the tracks' genre, or `various` when they differ.
    pub fn genre(&self) -> &Genre {
        &self.genre
    }

    /// The album's theme: the tracks' themes, joined when they differ.
    pub fn theme(&self) -> &Theme {
        &self.theme
    }

    /// One brief per track, in order (1 to 10).
    pub fn tracks(&self) -> &[SongBrief] {
        &self.tracks
    }

    /// The request field the cover's prompt is made from: `cover_description` when the
    /// client wrote one, else `theme` (with the genre and the first track's title).
    pub fn cover_prompt_field(&self) -> &'static str {
        match self.cover_description.as_deref() {
            Some(_) => "cover_description",
            None => "theme",
        }
    }

    /// The cover description: the client's, or one made from the album.
    pub fn cover_description(&self, title: &str) -> String {
        match self.cover_description.as_deref() {
            Some(description) => description.to_owned(),
            None => format!(
                "Album cover for \"{title}\", a {} album about {}",
                self.genre.as_str(),
                self.theme.as_str()
            )
            .chars()
            .take(1000)
            .collect(),
        }
    }
}

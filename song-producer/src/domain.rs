//! Request fields parsed into types that cannot be invalid.
//!
//! Handlers turn every request into these types first; from then on a `Theme` is
//! known to be 1 to 500 characters, a `SongsCount` 1 to 10, and nothing downstream
//! checks again. Each parse error names the proto field.

use prost_types::FieldMask;
use superstar_proto::v1::{JamRequest, MakeMeSuperstarRequest, Song, jam_request::Action};
use superstar_runtime::field::{InvalidField, bounded_text};

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

    /// The theme as the client wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many songs to make: 1 to 10 (a request's 0 means 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SongsCount(usize);

impl SongsCount {
    /// The most songs one request may make: each one is a model call.
    pub const MAX: usize = 10;

    /// Parses the `songs_count` field.
    pub fn parse(value: i32) -> Result<Self, InvalidField> {
        match value {
            0 => Ok(Self(1)),
            1..=10 => Ok(Self(value as usize)),
            _ => Err(InvalidField::new(
                "songs_count",
                format!("must be between 1 and 10, got {value}"),
            )),
        }
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

/// A Jam revision request: 1 to 500 characters, e.g. `shorter` or `add a bridge`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Instruction(String);

impl Instruction {
    /// Parses the `instruction` field.
    pub fn parse(value: &str) -> Result<Self, InvalidField> {
        bounded_text("instruction", value, 1, 500).map(Self)
    }

    /// The instruction as the client wrote it (trimmed).
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A song as a lyricist delivers it: a title and sectioned lyrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrittenSong {
    /// The title.
    pub title: String,
    /// The lyrics, section headings such as `[Chorus]` on their own lines.
    pub lyrics: String,
}

impl WrittenSong {
    /// Parses a lyricist's text: a first line `Title: …`, then the lyrics, which must
    /// contain at least one `[Section]` heading. Lyricists are asked for exactly this
    /// format; anything else is rejected rather than guessed at.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let (first, rest) = text.split_once('\n').unwrap_or((text, ""));
        let title =
            Self::title_line(first).ok_or_else(|| "the first line is not `Title: …`".to_owned())?;
        let lyrics = rest.trim();
        let has_section = lyrics.lines().any(|line| {
            let line = line.trim();
            line.len() > 2 && line.starts_with('[') && line.ends_with(']')
        });
        if !has_section {
            return Err("the lyrics have no `[Section]` heading".to_owned());
        }
        Ok(Self {
            title: title.to_owned(),
            lyrics: lyrics.to_owned(),
        })
    }

    /// The title in a song's first line, `Title: …` (1 to 200 characters, quotes
    /// dropped), or `None` when the line is anything else. A streamed reply can be
    /// judged by this as soon as its first line is complete.
    pub fn title_line(line: &str) -> Option<&str> {
        let line = line.trim();
        line.strip_prefix("Title:")
            .or_else(|| line.strip_prefix("TITLE:"))
            .map(|title| title.trim().trim_matches('"').trim())
            .filter(|title| !title.is_empty() && title.chars().count() <= 200)
    }

    /// The song in the lyricists' format, as [`parse`](Self::parse) reads it.
    pub fn to_text(&self) -> String {
        format!("Title: {}\n\n{}", self.title, self.lyrics)
    }
}

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

/// What an album is made of: its tracks and what its cover should show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlbumPlan {
    /// The album's genre: the tracks' genre, or `various` when they differ.
    pub genre: String,
    /// The album's theme: the tracks' themes, joined when they differ.
    pub theme: String,
    /// One brief per track, in order (1 to 10).
    pub tracks: Vec<SongBrief>,
    /// The client's cover description, if it gave one.
    pub cover_description: CoverDescription,
}

impl AlbumPlan {
    /// The album of a `MakeMeSuperstar` request.
    pub fn parse(request: &MakeMeSuperstarRequest) -> Result<Self, InvalidField> {
        let genre = Genre::parse(&request.genre)?;
        let theme = Theme::parse(&request.theme)?;
        let count = SongsCount::parse(request.songs_count)?;
        Ok(Self {
            genre: genre.as_str().to_owned(),
            theme: theme.as_str().to_owned(),
            tracks: SongBrief::tracks(&genre, &theme, count),
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
            true => ideas[0].0.as_str().to_owned(),
            false => "various".to_owned(),
        };
        let theme = match all_same(&|(_, theme)| theme.as_str().to_owned()) {
            true => ideas[0].1.as_str().to_owned(),
            false => {
                let themes: Vec<&str> = ideas.iter().map(|(_, theme)| theme.as_str()).collect();
                themes.join("; ").chars().take(500).collect()
            }
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

    /// The cover description: the client's, or one made from the album.
    pub fn cover_description(&self, title: &str) -> String {
        match self.cover_description.as_deref() {
            Some(description) => description.to_owned(),
            None => format!(
                "Album cover for \"{title}\", a {} album about {}",
                self.genre, self.theme
            )
            .chars()
            .take(1000)
            .collect(),
        }
    }
}

/// One parsed message of a Jam session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JamAction {
    /// The first take of a new song.
    Start(Genre, Theme),
    /// A new take of the current song.
    Revise(Instruction),
}

impl JamAction {
    /// Parses a `JamRequest`; exactly one of `start` and `revise` must be set.
    pub fn parse(request: JamRequest) -> Result<Self, InvalidField> {
        match request.action {
            Some(Action::Start(start)) => Ok(Self::Start(
                Genre::parse(&start.genre)?,
                Theme::parse(&start.theme)?,
            )),
            Some(Action::Revise(revise)) => {
                Ok(Self::Revise(Instruction::parse(&revise.instruction)?))
            }
            None => Err(InvalidField::new(
                "action",
                "is required: send start or revise",
            )),
        }
    }
}

/// Which fields of a song to return (`GetSong`'s `read_mask`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadMask(Option<Vec<String>>);

const SONG_FIELDS: &[&str] = &[
    "id",
    "title",
    "genre",
    "theme",
    "lyrics",
    "album_id",
    "create_time",
    "model",
];

impl ReadMask {
    /// Parses the mask; an absent or empty mask means every field. Paths may be
    /// written in snake_case or lowerCamelCase.
    pub fn parse(mask: Option<FieldMask>) -> Result<Self, InvalidField> {
        let paths = mask.map(|mask| mask.paths).unwrap_or_default();
        if paths.is_empty() {
            return Ok(Self(None));
        }
        let mut fields = Vec::with_capacity(paths.len());
        for path in paths {
            let field = snake_case(path.trim());
            if !SONG_FIELDS.contains(&field.as_str()) {
                return Err(InvalidField::new(
                    "read_mask",
                    format!(
                        "unknown field {path:?}; a song has {}",
                        SONG_FIELDS.join(", ")
                    ),
                ));
            }
            fields.push(field);
        }
        Ok(Self(Some(fields)))
    }

    /// The song with only the masked fields set.
    pub fn apply(&self, song: Song) -> Song {
        let Some(fields) = &self.0 else {
            return song;
        };
        let keep = |name: &str| fields.iter().any(|field| field == name);
        Song {
            id: if keep("id") { song.id } else { String::new() },
            title: if keep("title") {
                song.title
            } else {
                String::new()
            },
            genre: if keep("genre") {
                song.genre
            } else {
                String::new()
            },
            theme: if keep("theme") {
                song.theme
            } else {
                String::new()
            },
            lyrics: if keep("lyrics") {
                song.lyrics
            } else {
                String::new()
            },
            album_id: if keep("album_id") {
                song.album_id
            } else {
                String::new()
            },
            create_time: if keep("create_time") {
                song.create_time
            } else {
                None
            },
            model: if keep("model") {
                song.model
            } else {
                String::new()
            },
        }
    }
}

fn snake_case(path: &str) -> String {
    let mut snake = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            snake.push('_');
            snake.push(c.to_ascii_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// A `ListSongs` page size: 1 to 100, 0 meaning 20.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageSize(usize);

impl PageSize {
    /// Parses the `page_size` field.
    pub fn parse(value: i32) -> Result<Self, InvalidField> {
        match value {
            0 => Ok(Self(20)),
            1..=100 => Ok(Self(value as usize)),
            _ => Err(InvalidField::new(
                "page_size",
                format!("must be between 0 and 100, got {value}"),
            )),
        }
    }

    /// The size.
    pub fn get(self) -> usize {
        self.0
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

#[cfg(test)]
mod tests {
    use superstar_proto::v1::{JamRevise, JamStart};

    use super::*;

    #[test]
    fn read_masks_accept_proto_and_json_names() {
        let mask = |paths: &[&str]| {
            ReadMask::parse(Some(FieldMask {
                paths: paths.iter().map(|p| p.to_string()).collect(),
            }))
        };
        let song = Song {
            id: "1".into(),
            title: "t".into(),
            album_id: "a".into(),
            ..Song::default()
        };
        let masked = mask(&["title", "albumId"]).unwrap().apply(song.clone());
        assert_eq!(
            (
                masked.id.as_str(),
                masked.title.as_str(),
                masked.album_id.as_str()
            ),
            ("", "t", "a")
        );
        assert_eq!(ReadMask::parse(None).unwrap().apply(song.clone()), song);
        let error = mask(&["title", "tempo"]).unwrap_err();
        assert_eq!(error.field, "read_mask");
        assert!(error.reason.contains("tempo"));
    }

    #[test]
    fn page_sizes_default_to_twenty() {
        assert_eq!(PageSize::parse(0).unwrap().get(), 20);
        assert_eq!(PageSize::parse(100).unwrap().get(), 100);
        assert_eq!(PageSize::parse(101).unwrap_err().field, "page_size");
        assert_eq!(PageSize::parse(-1).unwrap_err().field, "page_size");
    }

    #[test]
    fn albums_of_mixed_ideas_are_various() {
        let idea =
            |genre: &str, theme: &str| (Genre::parse(genre).unwrap(), Theme::parse(theme).unwrap());
        let same = AlbumPlan::from_ideas(vec![idea("Jazz", "rain"), idea("jazz", "rain")]).unwrap();
        assert_eq!((same.genre.as_str(), same.theme.as_str()), ("Jazz", "rain"));
        assert_eq!(
            same.tracks.iter().map(|t| t.track).collect::<Vec<_>>(),
            [1, 2]
        );
        let mixed =
            AlbumPlan::from_ideas(vec![idea("jazz", "rain"), idea("metal", "fire")]).unwrap();
        assert_eq!(
            (mixed.genre.as_str(), mixed.theme.as_str()),
            ("various", "rain; fire")
        );
        assert_eq!(AlbumPlan::from_ideas(vec![]).unwrap_err().field, "ideas");
        assert_eq!(
            AlbumPlan::from_ideas(vec![idea("a", "b"); 11])
                .unwrap_err()
                .field,
            "ideas"
        );
    }

    #[test]
    fn jam_messages_need_an_action() {
        let start = JamRequest {
            action: Some(Action::Start(JamStart {
                genre: "jazz".into(),
                theme: String::new(),
            })),
        };
        assert_eq!(JamAction::parse(start).unwrap_err().field, "theme");
        let revise = JamRequest {
            action: Some(Action::Revise(JamRevise {
                instruction: "shorter".into(),
            })),
        };
        assert!(matches!(
            JamAction::parse(revise).unwrap(),
            JamAction::Revise(_)
        ));
        assert_eq!(
            JamAction::parse(JamRequest { action: None })
                .unwrap_err()
                .field,
            "action"
        );
    }

    #[test]
    fn songs_count_defaults_to_one_and_stops_at_ten() {
        assert_eq!(SongsCount::parse(0).unwrap().get(), 1);
        assert_eq!(SongsCount::parse(10).unwrap().get(), 10);
        for bad in [-1, 11, i32::MAX] {
            let error = SongsCount::parse(bad).unwrap_err();
            assert_eq!(error.field, "songs_count");
            assert!(error.reason.contains(&bad.to_string()));
        }
    }

    #[test]
    fn text_fields_name_themselves() {
        assert_eq!(Genre::parse("").unwrap_err().field, "genre");
        assert_eq!(Genre::parse(&"g".repeat(65)).unwrap_err().field, "genre");
        assert_eq!(Theme::parse(" ").unwrap_err().field, "theme");
        assert_eq!(Theme::parse(&"t".repeat(501)).unwrap_err().field, "theme");
        assert_eq!(
            CoverDescription::parse(&"d".repeat(1001))
                .unwrap_err()
                .field,
            "cover_description"
        );
        assert_eq!(Instruction::parse("").unwrap_err().field, "instruction");
    }

    #[test]
    fn an_empty_cover_description_is_left_to_us() {
        assert_eq!(CoverDescription::parse("  ").unwrap().as_deref(), None);
        assert_eq!(
            CoverDescription::parse(" neon ").unwrap().as_deref(),
            Some("neon")
        );
    }

    #[test]
    fn genre_keys_ignore_case_and_spacing() {
        assert_eq!(
            Genre::parse(" Heavy   Metal ").unwrap().key(),
            "heavy metal"
        );
    }

    #[test]
    fn written_songs_parse_strictly() {
        let song = WrittenSong::parse("Title: \"Neon Nights\"\n\n[Verse 1]\nla la\n").unwrap();
        assert_eq!(song.title, "Neon Nights");
        assert_eq!(song.lyrics, "[Verse 1]\nla la");
        assert_eq!(WrittenSong::parse(&song.to_text()).unwrap(), song);
        assert!(WrittenSong::parse("Neon Nights\n[Verse 1]\nla").is_err());
        assert!(WrittenSong::parse("Title: Neon Nights\nla la la").is_err());
        assert!(WrittenSong::parse("Title:   \n[Verse 1]\nla").is_err());
    }
}

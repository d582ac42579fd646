//! `GetSong`'s `read_mask`: which fields of a song to return.

use prost_types::FieldMask;
use superstar_proto::v1::Song;
use superstar_server::serve::request_fields::InvalidField;

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
                None
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

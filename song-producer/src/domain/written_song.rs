//! The lyricists' text format: a `Title: …` line, then lyrics in `[Section]`s.

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
    /// contain at least one `[Section]` heading, and no placeholder left from the
    /// format's description (a line such as `<lines>`). Lyricists are asked for exactly
    /// this format; anything else is rejected rather than guessed at.
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
        let placeholder = |line: &str| line.starts_with('<') && line.ends_with('>');
        if let Some(line) = lyrics.lines().map(str::trim).find(|line| placeholder(line)) {
            return Err(format!("the lyrics hold the placeholder {line:?}"));
        }
        if placeholder(title) {
            return Err(format!("the title is the placeholder {title:?}"));
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

//! The song contract: how a model is asked for a song, and how its reply, read as it
//! streams in, becomes the song's text (`Title: …`, then `[Section]`s, the format
//! [`WrittenSong::parse`] reads and everything downstream stores and shows).
//!
//! There are two contracts. [`Contract::JsonSchema`] asks for structured output: a JSON
//! object whose shape [`schema`] fixes (a title; sections, each a heading from
//! [`HEADINGS`] and 2 to 8 lines). OpenAI, Ollama, llama.cpp's server and vLLM all turn
//! such a schema into a grammar the model cannot step outside of, so even a tiny local
//! model writes a well-formed song. [`Contract::Text`] asks for the text format itself,
//! for servers that refuse `response_format`; its reader forgives what small models
//! add around a song (a preamble line, code fences, markdown bold) and nothing more.
//!
//! Both readers are incremental: fed the reply piece by piece, each returns the song's
//! text as far as it is known, line by line, so a streamed song reaches the client as
//! the model writes it. What they return, concatenated, is exactly the text stored.
//!
//! [`WrittenSong::parse`]: crate::domain::WrittenSong::parse

use actson::{JsonEvent, JsonParser, feeder::PushJsonFeeder};
use serde_json::{Value, json};

use crate::domain::WrittenSong;

/// The section headings a song may use, in the order songs usually have them.
pub const HEADINGS: [&str; 10] = [
    "Intro",
    "Verse 1",
    "Verse 2",
    "Verse 3",
    "Pre-Chorus",
    "Chorus",
    "Bridge",
    "Hook",
    "Interlude",
    "Outro",
];

/// How the lyricist asks a model for a song (`OPENAI_SONG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Contract {
    /// Structured output with [`schema`]: `json_schema`, the default.
    JsonSchema,
    /// The text format, asked for in the prompt alone: `text`.
    Text,
}

/// The most characters a line or a title may have where the schema bounds them.
pub const LINE_CHARS: u32 = 80;

/// The JSON schema of a song, in the subset of JSON Schema that OpenAI's strict
/// structured outputs accept: every property required, no additional properties.
///
/// With `bounded`, titles and lines also carry `minLength` and `maxLength`
/// ([`LINE_CHARS`]). Local servers compile these into their grammar, and a small model
/// needs them: without, half of SmolLM2's replies wrote one line for a thousand tokens.
/// They are left out for OpenAI's own API, whose strict mode does not list them among
/// the keywords it takes, and whose models keep to short lines unbidden.
pub fn schema(bounded: bool) -> Value {
    let mut line = json!({"type": "string"});
    if bounded {
        line["minLength"] = json!(1);
        line["maxLength"] = json!(LINE_CHARS);
    }
    let mut title = line.clone();
    title["description"] = json!("The song's title, without quotes.");
    json!({
        "type": "object",
        "properties": {
            "title": title,
            "sections": {
                "type": "array",
                "minItems": 2,
                "maxItems": 8,
                "items": {
                    "type": "object",
                    "properties": {
                        "heading": {"type": "string", "enum": HEADINGS},
                        "lines": {
                            "type": "array",
                            "minItems": 2,
                            "maxItems": 8,
                            "items": line
                        }
                    },
                    "required": ["heading", "lines"],
                    "additionalProperties": false
                }
            }
        },
        "required": ["title", "sections"],
        "additionalProperties": false
    })
}

/// Reads one reply under a contract, piece by piece.
pub enum SongReader {
    /// Asked for as JSON, nothing but white space read yet: a reply that opens with
    /// `{` is read as JSON, any other as the text format (a server that ignored
    /// `response_format` for this reply). Decided per reply, never for good.
    Undecided(String),
    /// Structured output: JSON in, text out.
    Json(Box<JsonSong>),
    /// The text format, made tidy line by line.
    Text(TextSong),
}

impl SongReader {
    /// A reader for a reply under `contract`.
    pub fn new(contract: Contract) -> Self {
        match contract {
            Contract::JsonSchema => Self::Undecided(String::new()),
            Contract::Text => Self::Text(TextSong::default()),
        }
    }

    /// Leaves [`SongReader::Undecided`] once `piece` shows the reply's first character;
    /// returns what to push to the reader decided on.
    fn decide(&mut self, piece: &str) -> Option<String> {
        let Self::Undecided(held) = self else {
            return Some(piece.to_owned());
        };
        held.push_str(piece);
        let first = held.trim_start().chars().next()?;
        let held = std::mem::take(held);
        *self = if first == '{' {
            Self::Json(Box::default())
        } else {
            tracing::info!("a reply asked for as JSON is not JSON; reading it as text");
            Self::Text(TextSong::default())
        };
        Some(held)
    }

    /// Reads the next piece of the reply; returns the song's text that it completes
    /// (often nothing, at most a few whole lines).
    pub fn push(&mut self, piece: &str) -> Result<String, String> {
        let Some(piece) = self.decide(piece) else {
            return Ok(String::new());
        };
        match self {
            Self::Undecided(_) => unreachable!("decided above"),
            Self::Json(reader) => reader.push(&piece),
            Self::Text(reader) => reader.push(&piece),
        }
    }

    /// Ends the reply; returns the rest of the song's text, or why the reply is not a
    /// whole song.
    pub fn finish(&mut self) -> Result<String, String> {
        match self {
            Self::Undecided(_) => Err("the reply is empty".into()),
            Self::Json(reader) => reader.finish(),
            Self::Text(reader) => reader.finish(),
        }
    }
}

/// Where in the song object a JSON value sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// The song object, or something the contract does not know (skipped).
    Other,
    Title,
    Sections,
    Section,
    Heading,
    Lines,
    Line,
}

/// Turns a song streamed as JSON under [`schema`] into the song's text as it arrives,
/// with actson's push parser: a line goes out as soon as its closing quote has come.
///
/// Our own reader on a kept parser: a JSON value that is not yet whole is not JSON, so
/// serde cannot read it until the end, which is what streaming must not wait for.
pub struct JsonSong {
    parser: JsonParser<PushJsonFeeder>,
    /// The place each open object or array is in, innermost last.
    open: Vec<Place>,
    /// The field whose value comes next, in the innermost open object.
    field: Option<String>,
    title_written: bool,
    /// The current section's heading, once read.
    heading: Option<String>,
    /// The current section's lines read before its heading (a server may order the
    /// fields as it likes).
    early_lines: Vec<String>,
    done: bool,
}

impl Default for JsonSong {
    fn default() -> Self {
        Self {
            parser: JsonParser::new(PushJsonFeeder::new()),
            open: Vec::new(),
            field: None,
            title_written: false,
            heading: None,
            early_lines: Vec::new(),
            done: false,
        }
    }
}

impl JsonSong {
    fn push(&mut self, piece: &str) -> Result<String, String> {
        let mut text = String::new();
        let mut bytes = piece.as_bytes();
        loop {
            let taken = self.parser.feeder.push_bytes(bytes);
            bytes = &bytes[taken..];
            self.drain(&mut text)?;
            if bytes.is_empty() {
                return Ok(text);
            }
        }
    }

    fn finish(&mut self) -> Result<String, String> {
        self.parser.feeder.done();
        let mut text = String::new();
        let drained = self.drain(&mut text);
        if drained.is_err() || !self.done {
            return Err("the reply ends before its JSON does".into());
        }
        Ok(text)
    }

    /// Handles every event the input pushed so far completes.
    fn drain(&mut self, text: &mut String) -> Result<(), String> {
        loop {
            let event = self
                .parser
                .next_event()
                .map_err(|error| format!("the reply is not JSON: {error}"))?;
            let Some(event) = event else {
                self.done = true;
                return Ok(());
            };
            match event {
                JsonEvent::NeedMoreInput => return Ok(()),
                JsonEvent::FieldName => {
                    self.field = Some(self.current()?.to_owned());
                }
                JsonEvent::StartObject | JsonEvent::StartArray => {
                    let place = self.value_place();
                    if place == Place::Section {
                        self.heading = None;
                        self.early_lines.clear();
                    }
                    self.open.push(place);
                    self.field = None;
                }
                JsonEvent::EndObject | JsonEvent::EndArray => {
                    if self.open.pop() == Some(Place::Section) && self.heading.take().is_none() {
                        return Err("a section has no heading".into());
                    }
                    self.field = None;
                }
                JsonEvent::ValueString => {
                    let place = self.value_place();
                    let value = one_line(self.current()?);
                    self.field = None;
                    match place {
                        Place::Title => {
                            text.push_str(&format!("Title: {value}\n"));
                            self.title_written = true;
                        }
                        Place::Heading => {
                            let heading = value.trim_matches(['[', ']']).trim().to_owned();
                            if heading.is_empty() {
                                return Err("a section has an empty heading".into());
                            }
                            self.start_section(&heading, text)?;
                            self.heading = Some(heading);
                        }
                        Place::Line if value.is_empty() => {}
                        Place::Line if self.heading.is_some() => {
                            text.push_str(&value);
                            text.push('\n');
                        }
                        Place::Line => self.early_lines.push(value),
                        _ => {}
                    }
                }
                _ => self.field = None,
            }
        }
    }

    /// Where the value about to be read sits, from the open containers and the field.
    fn value_place(&self) -> Place {
        let field = self.field.as_deref();
        match (self.open.as_slice(), field) {
            ([Place::Other], Some("title")) => Place::Title,
            ([Place::Other], Some("sections")) => Place::Sections,
            ([.., Place::Sections], None) => Place::Section,
            ([.., Place::Section], Some("heading")) => Place::Heading,
            ([.., Place::Section], Some("lines")) => Place::Lines,
            ([.., Place::Lines], None) => Place::Line,
            _ => Place::Other,
        }
    }

    fn start_section(&mut self, heading: &str, text: &mut String) -> Result<(), String> {
        if !self.title_written {
            return Err("a section comes before the title".into());
        }
        text.push_str(&format!("\n[{heading}]\n"));
        for line in self.early_lines.drain(..) {
            text.push_str(&line);
            text.push('\n');
        }
        Ok(())
    }

    fn current(&self) -> Result<&str, String> {
        self.parser
            .current_str()
            .map_err(|error| format!("the reply is not UTF-8 JSON: {error}"))
    }
}

/// The text format, read line by line and made tidy: code fences, blank lines before
/// the title and up to [`PREAMBLE_LINES`] lines of preamble are dropped, and markdown
/// bold or headings around the title and the section headings are taken off. Anything
/// else passes as written; [`WrittenSong::parse`] judges the result.
#[derive(Default)]
pub struct TextSong {
    /// Text after the last whole line.
    partial: String,
    /// Lines dropped before the title.
    preamble: usize,
    title_written: bool,
}

/// How many lines before the title a reply may spend on "Here is your song:" and the
/// like before it is judged not to be a song.
pub const PREAMBLE_LINES: usize = 2;

impl TextSong {
    fn push(&mut self, piece: &str) -> Result<String, String> {
        self.partial.push_str(piece);
        let Some(end) = self.partial.rfind('\n') else {
            return Ok(String::new());
        };
        let whole: String = self.partial.drain(..=end).collect();
        let mut text = String::new();
        for line in whole.lines() {
            self.line(line, &mut text)?;
        }
        Ok(text)
    }

    fn finish(&mut self) -> Result<String, String> {
        let rest = std::mem::take(&mut self.partial);
        let mut text = String::new();
        if !rest.trim().is_empty() {
            self.line(&rest, &mut text)?;
        }
        if !self.title_written {
            return Err("the reply has no `Title: …` line".into());
        }
        Ok(text)
    }

    fn line(&mut self, line: &str, text: &mut String) -> Result<(), String> {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            return Ok(());
        }
        let bare = trimmed.trim_matches(['*', '_', '#', ' ']);
        if !self.title_written {
            if trimmed.is_empty() {
                return Ok(());
            }
            if let Some(title) = WrittenSong::title_line(bare) {
                let title = title.trim_matches(['*', '_']).trim();
                text.push_str(&format!("Title: {title}\n"));
                self.title_written = true;
                return Ok(());
            }
            self.preamble += 1;
            if self.preamble > PREAMBLE_LINES {
                return Err(format!("the reply opens with {:?}", cut(trimmed)));
            }
            return Ok(());
        }
        if bare.len() > 2 && bare.starts_with('[') && bare.ends_with(']') {
            text.push_str(bare);
        } else {
            text.push_str(line.trim_end());
        }
        text.push('\n');
        Ok(())
    }
}

/// A string as one line of a song: inner line breaks become spaces.
fn one_line(value: &str) -> String {
    value
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A reply's opening, cut short for a log line.
pub(super) fn cut(text: &str) -> String {
    text.chars().take(60).collect()
}

/// A song in the JSON contract: what a model answering under [`schema`] writes for it
/// (a revision shows the model its previous take this way). Lines before the first
/// heading go under `Verse 1`.
pub fn to_json(song: &WrittenSong) -> Value {
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    for line in song
        .lyrics
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
    {
        match line
            .strip_prefix('[')
            .and_then(|line| line.strip_suffix(']'))
        {
            Some(heading) => sections.push((heading.to_owned(), Vec::new())),
            None => match sections.last_mut() {
                Some((_, lines)) => lines.push(line.to_owned()),
                None => sections.push(("Verse 1".to_owned(), vec![line.to_owned()])),
            },
        }
    }
    json!({
        "title": song.title,
        "sections": sections
            .into_iter()
            .map(|(heading, lines)| json!({"heading": heading, "lines": lines}))
            .collect::<Vec<_>>(),
    })
}

//! The OpenAI lyricist: songs from the chat completions API, streamed as the model
//! writes them, from OpenAI or any server that speaks its API.
//!
//! The system prompt casts the model as the label's producer; the user prompt gives the
//! genre and the theme, and a Jam revision continues the conversation with the previous
//! take and the instruction. The reply's shape is the song contract
//! ([`super::contract`]): by default structured output under a JSON schema, which
//! every OpenAI-compatible server enforces with a grammar. Servers differ in the form
//! they take it in, so the lyricist finds the one the server keeps ([`Form`]): the
//! standard `json_schema`, then `{"type": "json_object", "schema": …}` (what some
//! servers constrain output with, answering the standard form with an error, a 500
//! among them), then the text format. It moves down only when the server's error names
//! `response_format` (a prompt too long or a proxy's validation moves nothing), keeps
//! the form that worked for the next takes, and logs the move once. A reply asked for
//! as JSON that is not JSON is read as text, that reply alone.
//!
//! A reply that is not a song is asked for once more before the take fails as unusable
//! (`UNAVAILABLE`). Nothing of such a reply reaches the client: streamed text is passed
//! on only once its first line, the title, has been read.
//!
//! Every request carries a token cap ([`TokenCap`]). A reply that stops at it
//! (`finish_reason: "length"`) is the start of a song, however well its first lines
//! read, and is never stored as one ([`ProviderError::Truncated`], `UNAVAILABLE`). A
//! whole take, or a streamed one cut before any of its text went out, is asked for
//! once more first. A streamed take cut after its text began to reach the client fails
//! at once: a second reply under the same take would mix two texts in what the client
//! has seen (`GenerateLyrics`, which sends only whole songs, asks again itself; see the
//! studio).

use std::sync::{
    Arc,
    atomic::{AtomicU8, Ordering},
};

use async_openai::{
    Client,
    config::OpenAIConfig,
    types::chat::{
        ChatCompletionRequestAssistantMessage, ChatCompletionRequestAssistantMessageContent,
        ChatCompletionRequestMessage, ChatCompletionRequestSystemMessage,
        ChatCompletionRequestUserMessage, ChatCompletionStreamOptions, CreateChatCompletionRequest,
        CreateChatCompletionResponse, FinishReason, ResponseFormat, ResponseFormatJsonSchema,
    },
};
use futures::{StreamExt, future::BoxFuture};
use superstar_openai::{OPENAI_API_BASE, OpenAiSettings, ProviderError};
use superstar_server::serve::usage::Meter;
use superstar_settings::{SettingError, env};
use tokio::time::Instant;

use super::{
    Deltas, Lyricist, LyricsError,
    contract::{self, Contract, SongReader, cut},
};
use crate::domain::{SongBrief, WrittenSong};

/// How many times a reply that is not a song, or is cut at the token cap, is asked for
/// in all.
const FORMAT_ATTEMPTS: u32 = 2;

/// The cap for OpenAI's own API (`max_completion_tokens`). A song's text is under
/// 1,000 tokens, but reasoning models (the default `gpt-5-mini` is one) spend hidden
/// reasoning tokens from the same allowance, often thousands: at 2,000 a reply could
/// stop mid-verse. 16,000 leaves them room to think and still bounds what a runaway
/// reply costs.
pub const MAX_COMPLETION_TOKENS: u32 = 16_000;

/// The cap for other servers (`max_tokens`). The longest song the schema allows (8
/// sections of 8 lines) is about 900 tokens of JSON; local models do not reason
/// unseen, and a small one on a CPU writes 20 to 30 tokens a second, so a reply that
/// runs away ends within a minute.
pub const MAX_TOKENS: u32 = 1_024;

/// The most tokens a reply may use, and the request field that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenCap {
    /// The field.
    pub field: CapField,
    /// The cap.
    pub tokens: u32,
}

/// The request field that caps a reply's tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CapField {
    /// `max_completion_tokens`: OpenAI's field, the only one its reasoning models take;
    /// by default [`MAX_COMPLETION_TOKENS`].
    MaxCompletionTokens,
    /// `max_tokens`: the older field, which llama.cpp's server, Ollama and some vLLM
    /// versions honour while ignoring the newer one; by default [`MAX_TOKENS`].
    MaxTokens,
}

impl CapField {
    /// This field's cap by default.
    pub fn with_default(self) -> TokenCap {
        let tokens = match self {
            Self::MaxCompletionTokens => MAX_COMPLETION_TOKENS,
            Self::MaxTokens => MAX_TOKENS,
        };
        TokenCap {
            field: self,
            tokens,
        }
    }
}

/// How songs are asked for: the contract and the token cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SongRequest {
    /// `OPENAI_SONG_FORMAT`: `json_schema` (the default) or `text`.
    pub contract: Contract,
    /// `OPENAI_TOKEN_CAP_FIELD` (`max_completion_tokens` or `max_tokens`) and
    /// `OPENAI_MAX_TOKENS`. By default `max_completion_tokens` of
    /// [`MAX_COMPLETION_TOKENS`] for OpenAI's own API, `max_tokens` of [`MAX_TOKENS`]
    /// for any other `base_url`.
    pub cap: TokenCap,
    /// Whether the schema bounds the length of lines ([`contract::schema`]): for any
    /// server but OpenAI's own API.
    pub bounded_lines: bool,
}

impl SongRequest {
    /// The defaults for a server at `base_url`.
    pub fn for_server(base_url: &str) -> Self {
        let openai = base_url.trim_end_matches('/') == OPENAI_API_BASE;
        let field = if openai {
            CapField::MaxCompletionTokens
        } else {
            CapField::MaxTokens
        };
        Self {
            contract: Contract::JsonSchema,
            cap: field.with_default(),
            bounded_lines: !openai,
        }
    }

    /// Reads the settings for a server at `base_url` from the environment.
    pub fn from_env(base_url: &str) -> Result<Self, SettingError> {
        Self::from_lookup(env::var, base_url)
    }

    /// [`from_env`](Self::from_env) with the variables from `lookup`.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        base_url: &str,
    ) -> Result<Self, SettingError> {
        let defaults = Self::for_server(base_url);
        let contract = match lookup("OPENAI_SONG_FORMAT").as_deref().map(str::trim) {
            None | Some("json_schema") => Contract::JsonSchema,
            Some("text") => Contract::Text,
            Some(_) => {
                return Err(SettingError::new(
                    "OPENAI_SONG_FORMAT",
                    "must be `json_schema` or `text`",
                ));
            }
        };
        let field = match lookup("OPENAI_TOKEN_CAP_FIELD").as_deref().map(str::trim) {
            None => defaults.cap.field,
            Some("max_completion_tokens") => CapField::MaxCompletionTokens,
            Some("max_tokens") => CapField::MaxTokens,
            Some(_) => {
                return Err(SettingError::new(
                    "OPENAI_TOKEN_CAP_FIELD",
                    "must be `max_completion_tokens` or `max_tokens`",
                ));
            }
        };
        let default = field.with_default().tokens;
        let tokens = env::parse_value("OPENAI_MAX_TOKENS", lookup("OPENAI_MAX_TOKENS"), default)?;
        if tokens == 0 {
            return Err(SettingError::new("OPENAI_MAX_TOKENS", "must be at least 1"));
        }
        Ok(Self {
            contract,
            cap: TokenCap { field, tokens },
            ..defaults
        })
    }
}

/// OpenAI's own API's defaults; what an offline song producer carries, unused.
impl Default for SongRequest {
    fn default() -> Self {
        Self::for_server(OPENAI_API_BASE)
    }
}

const PRODUCER: &str = "\
You are Max Platinum, the in-house songwriter and producer of Superstar, a record label. \
You write original, singable lyrics that fit the requested genre's conventions, imagery \
and rhythm, with a memorable chorus and rhymes where the genre has them. You never copy \
existing songs.";

const JSON_FORMAT: &str = "\
Reply with the song as JSON: its title, and its sections in the order they are sung \
(for example Verse 1, Chorus, Verse 2, Chorus, Bridge, Chorus), each with its heading and \
its lines, four lines to a section.";

const TEXT_FORMAT: &str = "\
Reply with the song and nothing else, in exactly this format:
Title: <the song's title>

[Verse 1]
<lines>

[Chorus]
<lines>

Use more sections as the song needs ([Intro], [Verse 2], [Pre-Chorus], [Bridge], [Outro]); \
each heading in square brackets on its own line. No commentary, no markdown, no code fences.";

/// Writes songs with a chat model. Cheap to clone.
#[derive(Clone)]
pub struct OpenAiLyricist {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<OpenAIConfig>,
    settings: OpenAiSettings,
    song: SongRequest,
    /// The song contract's schema as `response_format`, built once.
    song_format: ResponseFormat,
    /// The schema alone, for [`Form::JsonObject`].
    schema: serde_json::Value,
    /// The form songs are asked in now: the first the server kept ([`Form`] as u8).
    form: AtomicU8,
}

/// How a song's shape is asked for, in the order tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    /// `response_format: {"type": "json_schema", "json_schema": {…, "strict": true}}`.
    JsonSchema = 0,
    /// `response_format: {"type": "json_object", "schema": …}`: llama.cpp's and others'.
    JsonObject = 1,
    /// No `response_format`: the text format, asked for in the prompt.
    Text = 2,
}

impl Form {
    fn from_u8(value: u8) -> Self {
        match value {
            0 => Self::JsonSchema,
            1 => Self::JsonObject,
            _ => Self::Text,
        }
    }

    /// The form tried after this one is refused.
    fn next(self) -> Option<Self> {
        match self {
            Self::JsonSchema => Some(Self::JsonObject),
            Self::JsonObject => Some(Self::Text),
            Self::Text => None,
        }
    }

    /// How a reply in this form is read.
    fn contract(self) -> Contract {
        match self {
            Self::JsonSchema | Self::JsonObject => Contract::JsonSchema,
            Self::Text => Contract::Text,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::JsonSchema => "json_schema",
            Self::JsonObject => "json_object with a schema",
            Self::Text => "the text format",
        }
    }
}

/// A chat request as sent: async-openai's, as JSON, so that it can carry a
/// `response_format` of a form its types do not have ([`Form::JsonObject`]).
type ChatRequest = serde_json::Value;

impl OpenAiLyricist {
    /// A lyricist asking `settings.model` at `settings.base_url`, as `song` says.
    pub fn new(settings: OpenAiSettings, song: SongRequest) -> Self {
        Self {
            inner: Arc::new(Inner {
                client: settings.client(),
                settings,
                song,
                song_format: ResponseFormat::JsonSchema {
                    json_schema: ResponseFormatJsonSchema {
                        name: "song".into(),
                        description: Some(
                            "A song's title and its lyrics, section by section.".into(),
                        ),
                        schema: contract::schema(song.bounded_lines),
                        strict: Some(true),
                    },
                },
                schema: contract::schema(song.bounded_lines),
                form: AtomicU8::new(match song.contract {
                    Contract::JsonSchema => Form::JsonSchema,
                    Contract::Text => Form::Text,
                } as u8),
            }),
        }
    }

    /// The request body one take of `brief` is asked with (`stream`ed or whole), as
    /// the server receives it first.
    pub fn request_body(&self, brief: &SongBrief, stream: bool) -> serde_json::Value {
        self.inner.request(brief, stream, self.inner.form())
    }
}

impl Lyricist for OpenAiLyricist {
    fn model(&self) -> &str {
        &self.inner.settings.model
    }

    fn write(&self, brief: &SongBrief, deadline: Option<Instant>, meter: &Meter) -> Deltas {
        let inner = Arc::clone(&self.inner);
        let meter = meter.clone();
        let brief = brief.clone();
        let deadline = inner.settings.deadline(deadline);
        Box::pin(async_stream::try_stream! {
            let mut asked = 0;
            let (head, mut reader, mut rest) = loop {
                asked += 1;
                let (contract, mut stream) = inner.ask(&brief, true, deadline, |request| async {
                    let mut call = meter.called();
                    let stream = inner.client.chat().create_stream_byot(request).await?;
                    call.answered();
                    Ok(stream)
                }).await?;
                // Hold the text back until its first line, the title, has been read.
                let mut reader = SongReader::new(contract);
                let read = read_head(&mut reader, &mut stream, deadline, &meter).await;
                let unusable = match read {
                    Ok(head) => match head.lines().next().and_then(WrittenSong::title_line) {
                        Some(_) => break (head, reader, stream),
                        None => ProviderError::Malformed(format!("the reply opens with {:?}", cut(&head))),
                    },
                    // Cut, or not a song, before any of it went out: it may be asked
                    // for again.
                    Err(error @ (ProviderError::Truncated | ProviderError::Malformed(_))) => error,
                    Err(error) => Err(error)?,
                };
                tracing::warn!(reason = %unusable, "the model's reply is unusable");
                if asked >= FORMAT_ATTEMPTS {
                    Err(unusable)?;
                }
            };
            yield head;
            while let Some(piece) = next_piece(&mut rest, deadline, &meter).await? {
                let text = reader.push(&piece).map_err(ProviderError::Malformed)?;
                if !text.is_empty() {
                    yield text;
                }
            }
            let text = reader.finish().map_err(ProviderError::Malformed)?;
            if !text.is_empty() {
                yield text;
            }
        })
    }

    fn write_whole(
        &self,
        brief: &SongBrief,
        deadline: Option<Instant>,
        meter: &Meter,
    ) -> BoxFuture<'static, Result<WrittenSong, LyricsError>> {
        let inner = Arc::clone(&self.inner);
        let meter = meter.clone();
        let brief = brief.clone();
        let deadline = inner.settings.deadline(deadline);
        Box::pin(async move {
            let mut asked = 0;
            loop {
                asked += 1;
                let (contract, reply) = inner
                    .ask(&brief, false, deadline, |request| async {
                        let mut call = meter.called();
                        let reply: CreateChatCompletionResponse =
                            inner.client.chat().create_byot(request).await?;
                        call.answered();
                        if let Some(usage) = &reply.usage {
                            let (prompt, completion) =
                                (usage.prompt_tokens.into(), usage.completion_tokens.into());
                            meter.tokens(prompt, completion);
                            call.tokens(prompt, completion);
                        }
                        let choice = reply.choices.into_iter().next().ok_or_else(|| {
                            ProviderError::Malformed("the reply has no choices".into())
                        })?;
                        if choice.message.refusal.is_some()
                            || choice.finish_reason == Some(FinishReason::ContentFilter)
                        {
                            return Err(ProviderError::Rejected);
                        }
                        if choice.finish_reason == Some(FinishReason::Length) {
                            return Ok(Err(ProviderError::Truncated));
                        }
                        Ok(Ok(choice.message.content.unwrap_or_default()))
                    })
                    .await?;
                let unusable = match reply.and_then(|reply| read_whole(contract, &reply)) {
                    Ok(song) => return Ok(song),
                    Err(unusable) => unusable,
                };
                if asked >= FORMAT_ATTEMPTS {
                    return Err(unusable);
                }
                tracing::warn!(reason = %unusable, "the model's reply is unusable; asking again");
            }
        })
    }
}

impl Inner {
    /// The form songs are asked in now.
    fn form(&self) -> Form {
        Form::from_u8(self.form.load(Ordering::Relaxed))
    }

    /// Sends a take's request through `send`, with retries, by `deadline`, in the form
    /// the server keeps: one it refuses by naming `response_format` is followed by the
    /// next ([`Form`]), and the one that is taken is kept for the takes after.
    async fn ask<T, F, Fut>(
        &self,
        brief: &SongBrief,
        stream: bool,
        deadline: Instant,
        send: F,
    ) -> Result<(Contract, T), ProviderError>
    where
        F: Fn(ChatRequest) -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let retry = &self.settings.retry;
        let mut form = self.form();
        loop {
            let request = self.request(brief, stream, form);
            match retry.run(deadline, || send(request.clone())).await {
                Err(ProviderError::FormatRefused { status }) if form.next().is_some() => {
                    let next = form.next().expect("checked");
                    let moved = self
                        .form
                        .compare_exchange(
                            form as u8,
                            next as u8,
                            Ordering::Relaxed,
                            Ordering::Relaxed,
                        )
                        .is_ok();
                    if moved {
                        tracing::warn!(
                            http_status = status,
                            refused = form.name(),
                            next = next.name(),
                            "the model server refused the song's response_format; asking in the next form from now on"
                        );
                    }
                    form = next;
                }
                answer => return answer.map(|answer| (form.contract(), answer)),
            }
        }
    }

    #[allow(deprecated)] // `max_tokens`: deprecated by OpenAI, still what local servers read
    fn request(&self, brief: &SongBrief, stream: bool, form: Form) -> ChatRequest {
        let contract = form.contract();
        let TokenCap { field, tokens } = self.song.cap;
        let (max_completion_tokens, max_tokens) = match field {
            CapField::MaxCompletionTokens => (Some(tokens), None),
            CapField::MaxTokens => (None, Some(tokens)),
        };
        let request = CreateChatCompletionRequest {
            model: self.settings.model.clone(),
            messages: messages(brief, contract),
            stream: Some(stream),
            // A streamed reply reports its tokens only when asked, in a last chunk.
            stream_options: stream.then_some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            }),
            response_format: (form == Form::JsonSchema).then(|| self.song_format.clone()),
            max_completion_tokens,
            max_tokens,
            ..Default::default()
        };
        let mut request = serde_json::to_value(request).expect("a chat request is JSON");
        if form == Form::JsonObject {
            request["response_format"] =
                serde_json::json!({"type": "json_object", "schema": self.schema});
        }
        request
    }
}

/// A whole reply under `contract`, read as a song.
fn read_whole(contract: Contract, reply: &str) -> Result<WrittenSong, ProviderError> {
    let mut reader = SongReader::new(contract);
    let mut text = reader.push(reply).map_err(ProviderError::Malformed)?;
    text.push_str(&reader.finish().map_err(ProviderError::Malformed)?);
    WrittenSong::parse(&text).map_err(ProviderError::Malformed)
}

/// Reads a streamed reply until the song's first line is whole; returns the text so
/// far.
async fn read_head(
    reader: &mut SongReader,
    stream: &mut async_openai::types::chat::ChatCompletionResponseStream,
    deadline: Instant,
    meter: &Meter,
) -> Result<String, ProviderError> {
    let mut head = String::new();
    while !head.contains('\n') {
        let text = match next_piece(stream, deadline, meter).await? {
            Some(piece) => reader.push(&piece),
            None => {
                let text = reader.finish();
                head.push_str(&text.map_err(ProviderError::Malformed)?);
                break;
            }
        };
        head.push_str(&text.map_err(ProviderError::Malformed)?);
    }
    Ok(head)
}

/// The conversation for one take: the producer persona and the contract, the brief
/// and, for a revision, the previous take (in the contract's shape) and what to change.
fn messages(brief: &SongBrief, contract: Contract) -> Vec<ChatCompletionRequestMessage> {
    let format = match contract {
        Contract::JsonSchema => JSON_FORMAT,
        Contract::Text => TEXT_FORMAT,
    };
    let mut ask = format!(
        "Write a {genre} song about: {theme}",
        genre = brief.genre.as_str(),
        theme = brief.theme.as_str()
    );
    if brief.track > 1 {
        ask.push_str(&format!(
            "\nThis is track {} of an album on this theme: make it a different song from the others, with its own title and angle.",
            brief.track
        ));
    }
    let mut messages = vec![
        ChatCompletionRequestSystemMessage::from(format!("{PRODUCER}\n\n{format}")).into(),
        ChatCompletionRequestUserMessage::from(ask).into(),
    ];
    if let Some(revision) = &brief.revision {
        let previous = match contract {
            Contract::JsonSchema => contract::to_json(&revision.previous).to_string(),
            Contract::Text => revision.previous.to_text(),
        };
        messages.push(
            ChatCompletionRequestAssistantMessage::from(
                ChatCompletionRequestAssistantMessageContent::Text(previous),
            )
            .into(),
        );
        messages.push(
            ChatCompletionRequestUserMessage::from(format!(
                "Revise the song: {}\nReply with the whole revised song, in the same format.",
                revision.instruction.as_str()
            ))
            .into(),
        );
    }
    messages
}

/// The next piece of text from a streamed reply, or `None` at its end. A refusal or
/// a content filter stop is the provider's safety system rejecting the prompt; a stop
/// at the token limit is [`ProviderError::Truncated`], even after a last piece of text.
async fn next_piece(
    stream: &mut async_openai::types::chat::ChatCompletionResponseStream,
    deadline: Instant,
    meter: &Meter,
) -> Result<Option<String>, LyricsError> {
    loop {
        let chunk = match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => return Err(ProviderError::DeadlineExceeded),
            Ok(None) => return Ok(None),
            Ok(Some(chunk)) => chunk.map_err(ProviderError::from)?,
        };
        if let Some(usage) = &chunk.usage {
            meter.tokens(usage.prompt_tokens.into(), usage.completion_tokens.into());
        }
        let Some(choice) = chunk.choices.into_iter().next() else {
            continue; // the usage chunk
        };
        if choice.delta.refusal.is_some()
            || choice.finish_reason == Some(FinishReason::ContentFilter)
        {
            return Err(ProviderError::Rejected);
        }
        if choice.finish_reason == Some(FinishReason::Length) {
            // Whatever text this chunk carries is part of what will not be stored.
            return Err(ProviderError::Truncated);
        }
        match choice.delta.content {
            Some(text) if !text.is_empty() => return Ok(Some(text)),
            _ => continue,
        }
    }
}

//! The OpenAI lyricist: songs from the chat completions API, streamed as the model
//! writes them.
//!
//! The system prompt casts the model as the label's producer and fixes the reply's
//! format, the one [`WrittenSong::parse`] reads; the user prompt gives the genre and the
//! theme, and a Jam revision continues the conversation with the previous take and the
//! instruction. The format is checked strictly: a reply that does not open with
//! `Title: …` is asked for once more before the take fails as unusable (`UNAVAILABLE`).
//! Nothing of such a reply reaches the client: streamed text is passed on only once
//! its first line has been checked.
//!
//! A reply that stops at the token limit (`finish_reason: "length"`) is the start of a
//! song, however well its first lines parse, and is never stored as one
//! ([`ProviderError::Truncated`], `UNAVAILABLE`). A whole take, or a streamed one cut
//! before any of its text went out, is asked for once more first. A streamed take cut
//! after its text began to reach the client fails at once: a second reply under the
//! same take would mix two texts in what the client has seen (`GenerateLyrics`, which
//! sends only whole songs, asks again itself; see the studio).

use std::sync::Arc;

use async_openai::{
    Client,
    config::OpenAIConfig,
    types::chat::{
        ChatCompletionRequestAssistantMessageContent, ChatCompletionRequestMessage,
        ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
        ChatCompletionStreamOptions, CreateChatCompletionRequest, FinishReason,
    },
};
use futures::{StreamExt, future::BoxFuture};
use superstar_openai::{OpenAiSettings, ProviderError};
use superstar_server::serve::usage::Meter;
use tokio::time::Instant;

use super::{Deltas, Lyricist, LyricsError};
use crate::domain::{SongBrief, WrittenSong};

/// How many times a reply in the wrong format, or cut at the token limit, is asked for
/// in all.
const FORMAT_ATTEMPTS: u32 = 2;

/// The most tokens a reply may use (`max_completion_tokens`). A song's text is under
/// 1,000 tokens, but reasoning models (the default `gpt-5-mini` is one) spend hidden
/// reasoning tokens from the same allowance, often thousands: at 2,000 a reply could
/// stop mid-verse. 16,000 leaves them room to think and still bounds what a runaway
/// reply costs.
pub const MAX_COMPLETION_TOKENS: u32 = 16_000;

const PRODUCER: &str = "\
You are Max Platinum, the in-house songwriter and producer of Superstar, a record label. \
You write original, singable lyrics that fit the requested genre's conventions, imagery \
and rhythm, with a memorable chorus and rhymes where the genre has them. You never copy \
existing songs.

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
}

impl OpenAiLyricist {
    /// A lyricist asking `settings.model` at `settings.base_url`.
    pub fn new(settings: OpenAiSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                client: settings.client(),
                settings,
            }),
        }
    }
}

impl Lyricist for OpenAiLyricist {
    fn model(&self) -> &str {
        &self.inner.settings.model
    }

    fn write(&self, brief: &SongBrief, deadline: Option<Instant>, meter: &Meter) -> Deltas {
        let inner = Arc::clone(&self.inner);
        let meter = meter.clone();
        let request = inner.request(brief, true);
        let deadline = inner.settings.deadline(deadline);
        Box::pin(async_stream::try_stream! {
            let mut asked = 0;
            let (head, mut rest) = loop {
                asked += 1;
                let mut stream = inner.settings.retry.run(deadline, || async {
                    let mut call = meter.called();
                    let stream = inner.client.chat().create_stream(request.clone()).await?;
                    call.answered();
                    Ok(stream)
                }).await?;
                // Hold the text back until its first line shows it is a song.
                let mut head = String::new();
                let mut truncated = false;
                while !first_line_complete(&head) {
                    match next_piece(&mut stream, deadline, &meter).await {
                        Ok(Some(piece)) => head.push_str(&piece),
                        Ok(None) => break,
                        // Cut before any of it went out: it may be asked for again.
                        Err(ProviderError::Truncated) if asked < FORMAT_ATTEMPTS => {
                            truncated = true;
                            break;
                        }
                        Err(error) => Err(error)?,
                    }
                }
                if truncated {
                    tracing::warn!("the model's reply was cut off at the token limit; asking again");
                    continue;
                }
                let first_line = head.trim_start().lines().next().unwrap_or_default();
                if WrittenSong::title_line(first_line).is_some() {
                    break (head, stream);
                }
                if asked >= FORMAT_ATTEMPTS {
                    Err(ProviderError::Malformed(format!("the reply opens with {:?}", cut(first_line))))?;
                }
                tracing::warn!(opening = cut(first_line), "the model's reply is not in the song format; asking again");
            };
            yield head;
            while let Some(piece) = next_piece(&mut rest, deadline, &meter).await? {
                yield piece;
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
        let request = inner.request(brief, false);
        let deadline = inner.settings.deadline(deadline);
        Box::pin(async move {
            let mut asked = 0;
            loop {
                asked += 1;
                let reply = inner
                    .settings
                    .retry
                    .run(deadline, || async {
                        let mut call = meter.called();
                        let reply = inner.client.chat().create(request.clone()).await?;
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
                let unusable = match reply {
                    Ok(text) => match WrittenSong::parse(&text) {
                        Ok(song) => return Ok(song),
                        Err(reason) => ProviderError::Malformed(reason),
                    },
                    Err(truncated) => truncated,
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
    fn request(&self, brief: &SongBrief, stream: bool) -> CreateChatCompletionRequest {
        CreateChatCompletionRequest {
            model: self.settings.model.clone(),
            messages: messages(brief),
            stream: Some(stream),
            // A streamed reply reports its tokens only when asked, in a last chunk.
            stream_options: stream.then_some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            }),
            max_completion_tokens: Some(MAX_COMPLETION_TOKENS),
            ..Default::default()
        }
    }
}

/// The conversation for one take: the producer persona, the brief and, for a
/// revision, the previous take and what to change.
fn messages(brief: &SongBrief) -> Vec<ChatCompletionRequestMessage> {
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
        ChatCompletionRequestSystemMessage::from(PRODUCER).into(),
        ChatCompletionRequestUserMessage::from(ask).into(),
    ];
    if let Some(revision) = &brief.revision {
        let previous =
            ChatCompletionRequestAssistantMessageContent::Text(revision.previous.to_text());
        messages.push(
            async_openai::types::chat::ChatCompletionRequestAssistantMessage::from(previous).into(),
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

/// Whether `text` holds a whole first line (leading blank lines aside).
fn first_line_complete(text: &str) -> bool {
    text.trim_start().contains('\n')
}

/// A reply's opening, cut short for a log line.
fn cut(text: &str) -> String {
    text.chars().take(60).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Genre, Instruction, Revision, Theme};

    fn brief() -> SongBrief {
        SongBrief::new(
            Genre::parse("heavy metal").unwrap(),
            Theme::parse("dragons over the city").unwrap(),
        )
    }

    fn json(messages: &[ChatCompletionRequestMessage]) -> serde_json::Value {
        serde_json::to_value(messages).unwrap()
    }

    #[test]
    fn a_first_take_is_a_persona_and_the_brief() {
        let messages = json(&messages(&brief()));
        assert_eq!(messages[0]["role"], "system");
        assert!(
            messages[0]["content"]
                .as_str()
                .unwrap()
                .contains("Title: <the song's title>")
        );
        assert_eq!(messages[1]["role"], "user");
        assert_eq!(
            messages[1]["content"],
            "Write a heavy metal song about: dragons over the city"
        );
        assert_eq!(messages.as_array().unwrap().len(), 2);
    }

    #[test]
    fn later_tracks_are_asked_to_differ() {
        let third = SongBrief {
            track: 3,
            ..brief()
        };
        let messages = json(&messages(&third));
        assert!(messages[1]["content"].as_str().unwrap().contains("track 3"));
    }

    #[test]
    fn a_revision_continues_the_conversation() {
        let previous = WrittenSong::parse("Title: Fire\n\n[Verse 1]\nBurn").unwrap();
        let revision = SongBrief {
            revision: Some(Revision {
                previous,
                instruction: Instruction::parse("add a bridge").unwrap(),
                take: 2,
            }),
            ..brief()
        };
        let messages = json(&messages(&revision));
        let roles: Vec<&str> = messages
            .as_array()
            .unwrap()
            .iter()
            .map(|message| message["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["system", "user", "assistant", "user"]);
        assert_eq!(messages[2]["content"], "Title: Fire\n\n[Verse 1]\nBurn");
        assert!(
            messages[3]["content"]
                .as_str()
                .unwrap()
                .starts_with("Revise the song: add a bridge")
        );
    }

    #[test]
    fn a_first_line_is_complete_at_its_newline() {
        assert!(!first_line_complete("Title: Fi"));
        assert!(!first_line_complete("\n\n"));
        assert!(first_line_complete("\nTitle: Fire\n"));
    }
}

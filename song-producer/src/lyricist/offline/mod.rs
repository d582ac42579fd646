//! The offline lyricist: real, deterministic songs from a songbook, no model needed.
//!
//! A song is a title and five sections, `[Verse 1]`, `[Chorus]`, `[Verse 2]`,
//! `[Bridge]`, `[Chorus]`, built from rhyming couplets of the genre's
//! [flavour](super::flavours) with the theme woven in. The same genre and theme
//! always give the same song: every choice comes from a generator seeded with them.
//!
//! A revision keeps what it was not asked to change and changes what it was:
//! `shorter` drops couplets (then the second verse), `longer` adds them, `bridge` adds a
//! bridge, `chorus` or `hook` writes a new chorus, and anything else rewrites the
//! verses. A new take is never the same as the one it revises.
//!
//! The text is streamed a few words at a time, as a model would stream it.

mod revision;
mod song;
mod theme_words;

use std::time::Duration;

use futures::StreamExt;
use superstar_server::serve::usage::Meter;
use tokio::time::Instant;

use self::{revision::Plan, song::Song, theme_words::Words};
use super::{Deltas, Lyricist, flavours};
use crate::domain::{SongBrief, genre_key};

/// Writes songs without a model. See the module documentation.
#[derive(Debug, Clone, Copy, Default)]
pub struct OfflineLyricist {
    typing_delay: Duration,
}

impl OfflineLyricist {
    /// A lyricist that waits `typing_delay` before each delta, as a model takes time to
    /// write (`OFFLINE_TYPING_DELAY_MS`; zero, the default, streams at once). A delay
    /// makes streaming visible in a demo and lets tests watch it.
    pub fn with_typing_delay(typing_delay: Duration) -> Self {
        Self { typing_delay }
    }
}

impl Lyricist for OfflineLyricist {
    fn model(&self) -> &str {
        "offline"
    }

    fn write(&self, brief: &SongBrief, _deadline: Option<Instant>, meter: &Meter) -> Deltas {
        meter.called().answered();
        let deltas = futures::stream::iter(split_into_deltas(&compose(brief)));
        if self.typing_delay.is_zero() {
            return Box::pin(deltas.map(Ok));
        }
        let delay = self.typing_delay;
        Box::pin(deltas.then(move |delta| async move {
            tokio::time::sleep(delay).await;
            Ok(delta)
        }))
    }
}

/// The whole text of one take.
pub fn compose(brief: &SongBrief) -> String {
    let key = genre_key(brief.genre.as_str());
    let words = Words::from_theme(brief.theme.as_str(), brief.genre.as_str());
    let plan = Plan::for_brief(brief);
    let mut attempt = 0;
    loop {
        // Track 1 is the song the theme gives on its own; later tracks are other songs.
        let track = if brief.track > 1 {
            format!("track {}", brief.track)
        } else {
            String::new()
        };
        let text = Song {
            flavour: flavours::for_genre(&key),
            words: &words,
            seed: [&key, brief.theme.as_str(), &track],
        }
        .render(&plan, attempt);
        let same_as_before = brief
            .revision
            .as_ref()
            .is_some_and(|revision| revision.previous.to_text() == text);
        if !same_as_before || attempt > 16 {
            return text;
        }
        attempt += 1;
    }
}

/// Splits text into deltas of about three words, keeping every character, so the
/// deltas concatenate back to the text exactly.
fn split_into_deltas(text: &str) -> Vec<String> {
    let mut deltas = Vec::new();
    let mut current = String::new();
    let mut words = 0;
    for (index, c) in text.char_indices() {
        current.push(c);
        let ends_word =
            c.is_whitespace() && !text[index + c.len_utf8()..].starts_with(char::is_whitespace);
        if ends_word {
            words += 1;
            if words == 3 || c == '\n' {
                deltas.push(std::mem::take(&mut current));
                words = 0;
            }
        }
    }
    if !current.is_empty() {
        deltas.push(current);
    }
    deltas
}

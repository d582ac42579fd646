//! Lyricists write songs, streaming the text as they go.
//!
//! There are two: OpenAI's chat completions API, and the [`OfflineLyricist`] that works
//! with no key and no network. Both stream text in the format [`WrittenSong::parse`]
//! reads (`Title: …`, then sectioned lyrics), so `Jam` and `GenerateLyrics` can pass
//! the text on as it is written and store the song once it is complete.
//!
//! [`WrittenSong::parse`]: crate::domain::WrittenSong::parse

pub mod contract;
pub mod flavours;
mod offline;
mod openai;

use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt, future::BoxFuture};
pub use offline::{OfflineLyricist, compose};
pub use openai::{
    CapField, MAX_COMPLETION_TOKENS, MAX_TOKENS, OpenAiLyricist, SongRequest, TokenCap,
};
use superstar_openai::ProviderError;
use superstar_server::serve::usage::Meter;
use tokio::time::Instant;

use crate::domain::{SongBrief, WrittenSong};

/// Why a lyricist could not deliver a song: it fails as any provider does, and text
/// that is not a song in the agreed format is [`ProviderError::Malformed`].
pub type LyricsError = ProviderError;

/// Pieces of a song's text in the order they are written. Concatenated, they are the
/// whole text.
pub type Deltas = Pin<Box<dyn Stream<Item = Result<String, LyricsError>> + Send>>;

/// Writes songs. Implementations must be cheap to share between requests.
///
/// `deadline` is when the caller stops waiting, if it said: a lyricist that calls out
/// uses it to decide whether a retry still fits. The functions below enforce it for
/// every lyricist alike.
pub trait Lyricist: Send + Sync + 'static {
    /// The model name stored with each song (`offline` for the offline lyricist).
    fn model(&self) -> &str;

    /// Starts writing one take, streamed. Dropping the stream stops the writing.
    /// Every request it sends a model is counted in `meter`, with the tokens the
    /// provider reports.
    fn write(&self, brief: &SongBrief, deadline: Option<Instant>, meter: &Meter) -> Deltas;

    /// Writes one whole take, when nobody watches it being written. By default the
    /// streamed deltas, collected and parsed.
    fn write_whole(
        &self,
        brief: &SongBrief,
        deadline: Option<Instant>,
        meter: &Meter,
    ) -> BoxFuture<'static, Result<WrittenSong, LyricsError>> {
        let deltas = self.write(brief, deadline, meter);
        Box::pin(async move {
            let text: String = deltas.try_collect().await?;
            WrittenSong::parse(&text).map_err(ProviderError::Malformed)
        })
    }
}

/// What writing a take yields: the text as it is written, then the finished song.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The next piece of text.
    Delta(String),
    /// The complete, parsed song.
    Done(WrittenSong),
}

/// Writes a take, yielding each delta and finally the parsed song; a delta that has
/// not come by `deadline` ends the take with [`ProviderError::DeadlineExceeded`].
pub fn write_with_progress(
    lyricist: &dyn Lyricist,
    brief: &SongBrief,
    deadline: Option<Instant>,
    meter: &Meter,
) -> impl Stream<Item = Result<Progress, LyricsError>> + Send + use<> {
    let mut deltas = lyricist.write(brief, deadline, meter);
    async_stream::try_stream! {
        let mut text = String::new();
        while let Some(delta) = by_deadline(deadline, deltas.next()).await?.transpose()? {
            text.push_str(&delta);
            yield Progress::Delta(delta);
        }
        let song = WrittenSong::parse(&text).map_err(ProviderError::Malformed)?;
        yield Progress::Done(song);
    }
}

/// Writes a whole take and returns the parsed song, by `deadline`.
pub async fn write_song(
    lyricist: &dyn Lyricist,
    brief: &SongBrief,
    deadline: Option<Instant>,
    meter: &Meter,
) -> Result<WrittenSong, LyricsError> {
    by_deadline(deadline, lyricist.write_whole(brief, deadline, meter)).await?
}

/// `work`'s output, or [`ProviderError::DeadlineExceeded`] if `deadline` comes first.
async fn by_deadline<T>(
    deadline: Option<Instant>,
    work: impl Future<Output = T>,
) -> Result<T, LyricsError> {
    match deadline {
        None => Ok(work.await),
        Some(deadline) => tokio::time::timeout_at(deadline, work)
            .await
            .map_err(|_| ProviderError::DeadlineExceeded),
    }
}

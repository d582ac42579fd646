//! Lyricists write songs, streaming the text as they go.
//!
//! There are two: OpenAI's chat completions API, and the [`OfflineLyricist`] that works
//! with no key and no network. Both stream text in the format [`WrittenSong::parse`]
//! reads (`Title: …`, then sectioned lyrics), so `Jam` and `GenerateLyrics` can pass
//! the text on as it is written and store the song once it is complete.
//!
//! [`WrittenSong::parse`]: crate::domain::WrittenSong::parse

mod flavours;
mod offline;

use std::pin::Pin;

use futures::{Stream, TryStreamExt};
pub use offline::{OfflineLyricist, compose};

use crate::domain::{SongBrief, WrittenSong};

/// Why a lyricist could not deliver a song.
#[derive(Debug, thiserror::Error)]
pub enum LyricsError {
    /// The lyricist's text is not a song in the agreed format.
    #[error("the lyricist's reply is not a song: {0}")]
    Malformed(String),
}

/// Pieces of a song's text in the order they are written. Concatenated, they are the
/// whole text.
pub type Deltas = Pin<Box<dyn Stream<Item = Result<String, LyricsError>> + Send>>;

/// Writes songs. Implementations must be cheap to share between requests.
pub trait Lyricist: Send + Sync + 'static {
    /// The model name stored with each song (`offline` for the offline lyricist).
    fn model(&self) -> &str;

    /// Starts writing one take. Dropping the stream stops the writing.
    fn write(&self, brief: &SongBrief) -> Deltas;
}

/// What writing a take yields: the text as it is written, then the finished song.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The next piece of text.
    Delta(String),
    /// The complete, parsed song.
    Done(WrittenSong),
}

/// Writes a take, yielding each delta and finally the parsed song.
pub fn write_with_progress(
    lyricist: &dyn Lyricist,
    brief: &SongBrief,
) -> impl Stream<Item = Result<Progress, LyricsError>> + Send + use<> {
    let mut deltas = lyricist.write(brief);
    async_stream::try_stream! {
        let mut text = String::new();
        while let Some(delta) = deltas.try_next().await? {
            text.push_str(&delta);
            yield Progress::Delta(delta);
        }
        let song = WrittenSong::parse(&text).map_err(LyricsError::Malformed)?;
        yield Progress::Done(song);
    }
}

/// Writes a take and returns the parsed song.
pub async fn write_song(
    lyricist: &dyn Lyricist,
    brief: &SongBrief,
) -> Result<WrittenSong, LyricsError> {
    let text: String = lyricist.write(brief).try_collect().await?;
    WrittenSong::parse(&text).map_err(LyricsError::Malformed)
}

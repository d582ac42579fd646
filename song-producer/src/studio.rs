//! Where takes become stored songs and albums.
//!
//! The handlers in [`service`](crate::service) parse requests and hand the studio
//! plans; the studio runs the lyricist, asks the cover designer for covers and stores
//! the results. Nothing is stored before everything a request needs has been made, so
//! a failed request leaves nothing behind. Every model call is paid for from the
//! client's [`ModelBudget`] before it is made.

use std::sync::Arc;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use superstar_proto::v1::{
    Album, DesignCoverRequest, JamReply, JamRequest, Song, jam_reply::Event,
};
use superstar_server::{call_context::CallContext, request_fields::InvalidField};
use tonic::Status;

use crate::{
    budget::ModelBudget,
    cover_client::CoverClient,
    domain::{AlbumPlan, JamAction, Revision, SongBrief, WrittenSong},
    error::Error,
    lyricist::{Lyricist, LyricsError, Progress, write_song, write_with_progress},
    store::{NewAlbum, NewSong, SongStore},
};

/// How many songs of one album are written at the same time: enough to overlap model
/// latency, few enough not to trip a provider's rate limit.
const CONCURRENT_SONGS: usize = 4;

/// The song producer's use cases. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Studio {
    lyricist: Arc<dyn Lyricist>,
    songs: SongStore,
    covers: CoverClient,
    budget: ModelBudget,
}

impl Studio {
    /// A studio writing with `lyricist`, storing in `songs`, asking `covers` for covers
    /// and charging every model call to `budget`.
    pub fn new(
        lyricist: Arc<dyn Lyricist>,
        songs: SongStore,
        covers: CoverClient,
        budget: ModelBudget,
    ) -> Self {
        Self {
            lyricist,
            songs,
            covers,
            budget,
        }
    }

    /// The store, for the reads that need nothing else.
    pub fn songs(&self) -> &SongStore {
        &self.songs
    }

    /// Writes every track, then has the cover painted, then stores the album with its
    /// songs in one transaction. The album is named after its first track. Its calls
    /// (each track and the cover) are charged before the first is made.
    pub async fn make_album(&self, plan: AlbumPlan, context: &CallContext) -> Result<Album, Error> {
        let calls = u32::try_from(plan.tracks().len() + 1).unwrap_or(u32::MAX);
        self.budget.spend(context.client(), calls)?;
        let deadline = context.give_up_at();
        let written: Vec<WrittenSong> = stream::iter(plan.tracks().to_vec())
            .map(|brief| {
                let lyricist = Arc::clone(&self.lyricist);
                async move { write_song(lyricist.as_ref(), &brief, deadline).await }
            })
            .buffered(CONCURRENT_SONGS)
            .try_collect()
            .await?;
        let title = written[0].title.clone();
        let cover_request = DesignCoverRequest {
            description: plan.cover_description(&title),
            title: title.clone(),
            genre: plan.genre().as_str().to_owned(),
        };
        let cover = self.covers.design(cover_request, context).await?;
        let model = self.lyricist.model();
        let songs: Vec<NewSong<'_>> = plan
            .tracks()
            .iter()
            .zip(&written)
            .map(|(brief, written)| NewSong {
                genre: brief.genre.as_str(),
                theme: brief.theme.as_str(),
                written,
                model,
            })
            .collect();
        let album = NewAlbum {
            title: &title,
            genre: plan.genre().as_str(),
            theme: plan.theme().as_str(),
            cover: &cover,
            songs: &songs,
        };
        Ok(self.songs.insert_album(&album).await?)
    }

    /// Writes and stores the songs one after another, yielding each once it is stored.
    /// Every song is charged before the stream starts. Dropping the stream (the client
    /// went away) stops the writing.
    pub fn generate(
        &self,
        briefs: Vec<SongBrief>,
        context: &CallContext,
    ) -> Result<impl Stream<Item = Result<Song, Error>> + Send + use<>, Error> {
        let calls = u32::try_from(briefs.len()).unwrap_or(u32::MAX);
        self.budget.spend(context.client(), calls)?;
        let studio = self.clone();
        let deadline = context.give_up_at();
        Ok(async_stream::try_stream! {
            for brief in briefs {
                let written = studio.write_unseen(&brief, deadline).await?;
                yield studio.store_single(&brief, &written).await?;
            }
        })
    }

    /// One song for a client that sees only whole songs. Streamed from the model all
    /// the same: the stream shows the model is making progress, and fails as soon as it
    /// stops. Since none of its text has gone out, a reply cut at the token limit is
    /// asked for once more. (The lyricist itself asks again for a reply cut before its
    /// first line, so a song whose replies are cut at both points costs at most four
    /// calls; a cut reply is never stored either way.)
    async fn write_unseen(
        &self,
        brief: &SongBrief,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<WrittenSong, LyricsError> {
        let mut asked = 0;
        loop {
            asked += 1;
            let mut progress =
                Box::pin(write_with_progress(self.lyricist.as_ref(), brief, deadline));
            let written = async {
                while let Some(step) = progress.try_next().await? {
                    if let Progress::Done(written) = step {
                        return Ok(written);
                    }
                }
                Err(LyricsError::Malformed(
                    "the reply ended without a song".into(),
                ))
            }
            .await;
            match written {
                Err(LyricsError::Truncated) if asked < 2 => {
                    tracing::warn!(
                        "the model's reply was cut off at the token limit; asking again"
                    );
                }
                written => return written,
            }
        }
    }

    /// Runs a Jam session: for each `start` or `revise`, the take's text as it is
    /// written, then the stored song. The session ends when the client half-closes.
    /// A deadline bounds the whole session, as gRPC deadlines do. Each take is charged
    /// before it is written; a take over budget ends the session with
    /// `RESOURCE_EXHAUSTED`, every earlier take stored whole.
    pub fn jam<S>(
        &self,
        mut requests: S,
        context: &CallContext,
    ) -> impl Stream<Item = Result<JamReply, Error>> + Send + use<S>
    where
        S: Stream<Item = Result<JamRequest, Status>> + Send + Unpin + 'static,
    {
        let studio = self.clone();
        let deadline = context.give_up_at();
        let client = context.client().to_owned();
        async_stream::try_stream! {
            // The first take's brief and the latest take.
            let mut session: Option<(SongBrief, WrittenSong)> = None;
            let mut take: u32 = 0;
            while let Some(request) = requests.next().await {
                let request = match request {
                    Ok(request) => request,
                    Err(status) => {
                        tracing::debug!(code = ?status.code(), "jam client went away");
                        break;
                    }
                };
                let brief = match (JamAction::parse(request)?, &session) {
                    (JamAction::Start(genre, theme), None) => SongBrief::new(genre, theme),
                    (JamAction::Revise(instruction), Some((first, previous))) => SongBrief {
                        revision: Some(Revision { previous: previous.clone(), instruction, take: take + 1 }),
                        ..first.clone()
                    },
                    (JamAction::Start(..), Some(_)) => {
                        Err(InvalidField::new("start", "the session has already started; send revise"))?
                    }
                    (JamAction::Revise(_), None) => {
                        Err(InvalidField::new("revise", "start the session first"))?
                    }
                };
                studio.budget.spend(&client, 1)?;
                take += 1;
                let number = i32::try_from(take).unwrap_or(i32::MAX);
                let mut progress = Box::pin(write_with_progress(studio.lyricist.as_ref(), &brief, deadline));
                while let Some(step) = progress.try_next().await? {
                    match step {
                        Progress::Delta(delta) => yield JamReply { take: number, event: Some(Event::Delta(delta)) },
                        Progress::Done(written) => {
                            let song = studio.store_single(&brief, &written).await?;
                            let first = SongBrief { revision: None, ..brief.clone() };
                            session = Some((first, written));
                            yield JamReply { take: number, event: Some(Event::Song(song)) };
                        }
                    }
                }
            }
        }
    }

    async fn store_single(&self, brief: &SongBrief, written: &WrittenSong) -> Result<Song, Error> {
        let song = NewSong {
            genre: brief.genre.as_str(),
            theme: brief.theme.as_str(),
            written,
            model: self.lyricist.model(),
        };
        Ok(self.songs.insert_song(&song).await?)
    }
}

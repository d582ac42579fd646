//! Where takes become stored songs and albums.
//!
//! The handlers in [`service`](crate::service) parse requests and hand the studio
//! plans; the studio runs the lyricist, asks the cover designer for covers and stores
//! the results. Nothing is stored before everything a request needs has been made, so
//! a failed request leaves nothing behind. Every model call is paid for from the
//! client's [`ModelBudget`] before it is made.

use std::sync::Arc;

use futures::{Stream, StreamExt, TryStreamExt, stream};
use superstar_proto::{
    errors,
    v1::{
        Album, Cover, DesignCoverRequest, JamReply, JamRequest, Song, album_progress,
        jam_reply::Event,
    },
};
use superstar_server::{
    calls::call_context::CallContext,
    serve::request_fields::InvalidField,
    serve::usage::{Meter, Usage},
    storage::idempotency::{Begun, Claim, ClaimError, RequestId, RequestIds, RequestKey},
};
use tokio_util::sync::CancellationToken;
use tonic::Status;
use tracing::Instrument;

use crate::{
    budget::ModelBudget,
    cover_client::CoverClient,
    domain::{AlbumPlan, JamAction, Revision, SongBrief, WrittenSong},
    error::Error,
    lyricist::{Lyricist, LyricsError, Progress, write_song, write_with_progress},
    store::{InsertError, NewAlbum, NewSong, SongStore},
};

/// How many songs of one album are written at the same time: enough to overlap model
/// latency, few enough not to trip a provider's rate limit.
const CONCURRENT_SONGS: usize = 4;

/// Where [`Studio::make_album`] reports an album's steps as they happen (StreamAlbum):
/// each track once written, then the cover. Unbounded, since an album has at most 11
/// steps; a receiver that went away is no error (the album is still made or undone).
pub type AlbumSteps = tokio::sync::mpsc::UnboundedSender<album_progress::Event>;

/// Why an album whose cover was ordered has no answer: it is known not stored (so the
/// cover order is withdrawn), or its COMMIT failed and nobody can tell (so it is not).
enum AlbumNotStored {
    Known(Error),
    Unknown(sqlx::Error),
}

/// The song producer's use cases. Cheap to clone: clones share everything.
#[derive(Clone)]
pub struct Studio {
    lyricist: Arc<dyn Lyricist>,
    songs: SongStore,
    requests: RequestIds,
    covers: CoverClient,
    budget: ModelBudget,
    usage: Usage,
}

impl Studio {
    /// A studio writing with `lyricist`, storing in `songs` (with the request ids of
    /// albums in `requests`), asking `covers` for covers and charging every model call
    /// to `budget` and each client's spending to `usage`.
    pub fn new(
        lyricist: Arc<dyn Lyricist>,
        songs: SongStore,
        requests: RequestIds,
        covers: CoverClient,
        budget: ModelBudget,
        usage: Usage,
    ) -> Self {
        Self {
            lyricist,
            songs,
            requests,
            covers,
            budget,
            usage,
        }
    }

    /// The store, for the reads that need nothing else.
    pub fn songs(&self) -> &SongStore {
        &self.songs
    }

    /// Makes an album: writes every track, orders the cover, then stores the album with
    /// its songs in one transaction. The album is named after its first track. Its calls
    /// (each track and the cover) are charged before the first is made.
    ///
    /// With a request id (AIP-155) a repeat gets the first album back and is charged
    /// nothing; see [`idempotency`](superstar_server::storage::idempotency).
    ///
    /// Nothing of a failed album stays behind, however it fails. Songs are stored only
    /// with the album. The cover is the cover designer's, stored before the album is:
    /// if the album then fails (the database, the deadline, the caller gone), its order
    /// is withdrawn and the cover deleted. So that this happens even when the caller
    /// goes away, which drops this future, the album is made in a task of its own that
    /// always reaches one of the two ends. The caller going away stops that task early,
    /// unless the request carries a request id: then the album is finished, for the
    /// retry that will come with the same id. What stops it then is losing the id's
    /// claim ([`Claim::lost`]): another replica may be making the album by then, and
    /// only one of them may pay for it.
    ///
    /// With `steps`, each track is sent there once it and those before it are written,
    /// then the cover; a repeated request id sends nothing there (its album is whole).
    pub async fn make_album(
        &self,
        plan: AlbumPlan,
        key: Option<RequestKey>,
        context: &CallContext,
        steps: Option<AlbumSteps>,
    ) -> Result<Album, Error> {
        let claim = match self.requests.begin::<Album>(key, context).await? {
            Begun::Replay(album) => {
                tracing::info!(album_id = %album.id, "repeated request id: the first album again");
                return Ok(album);
            }
            Begun::Fresh(claim) => claim,
        };
        let calls = u32::try_from(plan.tracks().len() + 1).unwrap_or(u32::MAX);
        self.budget.spend(context.client(), calls).await?;
        let caller_gone = CancellationToken::new();
        let _cancel_when_dropped = caller_gone.clone().drop_guard();
        let stop = match &claim {
            Some(claim) => claim.lost(),
            None => caller_gone,
        };
        let studio = self.clone();
        let context = context.clone();
        // In the RPC's span: its log lines and the album's trace go on in the task.
        let album = tokio::spawn(
            async move {
                studio
                    .make_album_to_the_end(plan, claim, context, stop, steps)
                    .await
            }
            .instrument(tracing::Span::current()),
        );
        album
            .await
            .unwrap_or_else(|failed| std::panic::resume_unwind(failed.into_panic()))
    }

    /// The album task of [`Studio::make_album`]: stored, or failed with its cover order
    /// withdrawn.
    async fn make_album_to_the_end(
        self,
        plan: AlbumPlan,
        claim: Option<Claim>,
        context: CallContext,
        stop: CancellationToken,
        steps: Option<AlbumSteps>,
    ) -> Result<Album, Error> {
        let deadline = context.give_up_at();
        let meter = self.meter(&context);
        let model = self.lyricist.model();
        let holds_claim = claim.is_some();
        let stopped = || match holds_claim {
            true => Error::Claim(ClaimError::Lost),
            false => Error::CallerGone,
        };
        let written = tokio::select! {
            biased;
            () = stop.cancelled() => return Err(stopped()),
            written = self.write_tracks(&plan, deadline, &meter, |brief, written| {
                if let Some(steps) = &steps {
                    let _ = steps.send(album_progress::Event::Song(Song {
                        title: written.title.clone(),
                        genre: brief.genre.as_str().to_owned(),
                        theme: brief.theme.as_str().to_owned(),
                        lyrics: written.lyrics.clone(),
                        model: model.to_owned(),
                        ..Song::default()
                    }));
                }
            }) => written?,
        };
        let title = &written[0].title;
        let cover_request = DesignCoverRequest {
            description: plan.cover_description(title),
            title: title.clone(),
            genre: plan.genre().as_str().to_owned(),
            request_id: String::new(),
        };
        let album_id = claim.as_ref().map(Claim::request_id);
        let (order, cover) = self
            .order_cover(cover_request, album_id, &context, &stop, &stopped)
            .await;
        let cover = cover.map_err(|error| error.of_cover_prompt(plan.cover_prompt_field()));
        let stored = match cover {
            // An album stored after its caller went away is one it was told had failed.
            Ok(_) if stop.is_cancelled() => Err(AlbumNotStored::Known(stopped())),
            Ok(cover) => {
                if let Some(steps) = &steps {
                    let _ = steps.send(album_progress::Event::Cover(cover.clone()));
                }
                self.store_album(&plan, &written, &cover, claim, deadline)
                    .await
            }
            Err(error) => Err(AlbumNotStored::Known(error)),
        };
        match stored {
            Ok(album) => Ok(album),
            Err(AlbumNotStored::Known(error)) => {
                tracing::info!(%error, "the album failed after its cover was ordered; withdrawing the order");
                self.covers.withdraw(order, &context).await;
                Err(error)
            }
            // The album may be stored with this cover: keeping a cover no album names
            // costs a few kilobytes; withdrawing one an album names breaks the album.
            Err(AlbumNotStored::Unknown(error)) => {
                tracing::error!(%error, "the album's commit failed; whether it was stored is unknown, so its cover is kept");
                Err(Error::Storage(error))
            }
        }
    }

    /// Orders an album's cover, and says under which order id (to withdraw it if the
    /// album fails). An album with a request id orders under an id derived from it, so
    /// that a retry of an album whose first attempt died after ordering (`kill -9`)
    /// finds that order: the same cover comes back, painted once, or, ordered for
    /// another title, that order is withdrawn (its cover deleted) and a new one placed.
    /// Without an id, a fresh order id. `stop` cancelled ends the wait for the cover
    /// with `stopped()`; the order placed is still returned, to be withdrawn.
    async fn order_cover(
        &self,
        request: DesignCoverRequest,
        album_id: Option<RequestId>,
        context: &CallContext,
        stop: &CancellationToken,
        stopped: &(dyn Fn() -> Error + Sync),
    ) -> (RequestId, Result<Cover, Error>) {
        let design = async |order| {
            tokio::select! {
                biased;
                () = stop.cancelled() => Err(stopped()),
                cover = self.covers.design(request.clone(), order, context) => cover,
            }
        };
        let Some(album_id) = album_id else {
            let order = RequestId::new_random();
            return (order, design(order).await);
        };
        let order = album_id.derived("cover");
        match design(order).await {
            Err(Error::CoverDesigner(status))
                if errors::reason(&status).as_deref() == Some("REQUEST_ID_REUSED") =>
            {
                tracing::info!(
                    "an earlier attempt at this album ordered another cover; withdrawing it"
                );
                self.covers.withdraw(order, context).await;
                let order = RequestId::new_random();
                (order, design(order).await)
            }
            cover => (order, cover),
        }
    }

    /// Every track of `plan`, written a few at a time; `written` sees each in track
    /// order, as soon as it and those before it are done.
    async fn write_tracks(
        &self,
        plan: &AlbumPlan,
        deadline: Option<tokio::time::Instant>,
        meter: &Meter,
        mut written: impl FnMut(&SongBrief, &WrittenSong),
    ) -> Result<Vec<WrittenSong>, Error> {
        let tracks = plan.tracks();
        Ok(stream::iter(tracks.to_vec())
            .map(|brief| {
                let lyricist = Arc::clone(&self.lyricist);
                async move { write_song(lyricist.as_ref(), &brief, deadline, meter).await }
            })
            .buffered(CONCURRENT_SONGS)
            .enumerate()
            .map(|(track, song)| {
                if let Ok(song) = &song {
                    written(&tracks[track], song);
                }
                song
            })
            .try_collect()
            .await?)
    }

    /// Stores the album, named after its first track (see [`SongStore::insert_album`]:
    /// the deadline bounds the work before COMMIT, never COMMIT itself).
    async fn store_album(
        &self,
        plan: &AlbumPlan,
        written: &[WrittenSong],
        cover: &Cover,
        claim: Option<Claim>,
        deadline: Option<tokio::time::Instant>,
    ) -> Result<Album, AlbumNotStored> {
        let model = self.lyricist.model();
        let songs: Vec<NewSong<'_>> = plan
            .tracks()
            .iter()
            .zip(written)
            .map(|(brief, written)| NewSong {
                genre: brief.genre.as_str(),
                theme: brief.theme.as_str(),
                written,
                model,
            })
            .collect();
        let album = NewAlbum {
            title: &written[0].title,
            genre: plan.genre().as_str(),
            theme: plan.theme().as_str(),
            cover,
            songs: &songs,
        };
        self.songs
            .insert_album(&album, claim, deadline)
            .await
            .map_err(|error| match error {
                InsertError::Deadline => AlbumNotStored::Known(Error::DeadlineExceeded),
                InsertError::NotStored(error) => AlbumNotStored::Known(error.into()),
                InsertError::Unknown(error) => AlbumNotStored::Unknown(error),
            })
    }

    /// Writes and stores the songs one after another, yielding each once it is stored.
    /// Every song is charged before the stream starts. Dropping the stream (the client
    /// went away) stops the writing.
    pub async fn generate(
        &self,
        briefs: Vec<SongBrief>,
        context: &CallContext,
    ) -> Result<impl Stream<Item = Result<Song, Error>> + Send + use<>, Error> {
        let calls = u32::try_from(briefs.len()).unwrap_or(u32::MAX);
        self.budget.spend(context.client(), calls).await?;
        let studio = self.clone();
        let deadline = context.give_up_at();
        let meter = self.meter(context);
        Ok(async_stream::try_stream! {
            for brief in briefs {
                let written = studio.write_unseen(&brief, deadline, &meter).await?;
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
        meter: &Meter,
    ) -> Result<WrittenSong, LyricsError> {
        let mut asked = 0;
        loop {
            asked += 1;
            let mut progress = Box::pin(write_with_progress(
                self.lyricist.as_ref(),
                brief,
                deadline,
                meter,
            ));
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
        let meter = self.meter(context);
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
                studio.budget.spend(&client, 1).await?;
                take += 1;
                let number = i32::try_from(take).unwrap_or(i32::MAX);
                let mut progress = Box::pin(write_with_progress(studio.lyricist.as_ref(), &brief, deadline, &meter));
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

    /// Where the lyricist counts the calls it makes for `context`'s client.
    fn meter(&self, context: &CallContext) -> Meter {
        self.usage.meter(context.client(), self.lyricist.model())
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

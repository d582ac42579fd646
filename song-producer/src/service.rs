//! The `superstar.v1.SongProducer` handlers: parse the request, call the studio or the
//! store, answer. Errors become statuses in one place, [`Error`]'s `From` impl.

use std::pin::Pin;

use futures::{Stream, StreamExt, TryStreamExt};
use superstar_proto::v1::{
    Album, AlbumProgress, GenerateLyricsRequest, GetAlbumRequest, GetSongRequest, JamReply,
    JamRequest, ListAlbumsRequest, ListAlbumsResponse, ListSongsRequest, ListSongsResponse,
    MakeMeSuperstarRequest, Song, SongIdea, album_progress, song_producer_server::SongProducer,
};
use superstar_server::{
    calls::call_context::CallContext,
    serve::request_fields::{InvalidField, bounded_text, resource_id},
    storage::idempotency::{Fingerprint, RequestId, RequestKey},
};
use tonic::{Request, Response, Status, Streaming};

use crate::{
    domain::{AlbumPlan, Genre, PageSize, ReadMask, SongBrief, SongsCount, Theme, genre_key},
    error::Error,
    page_token,
    studio::Studio,
};

/// A boxed stream of replies, as tonic's generated trait wants.
pub type ReplyStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

/// The song producer's gRPC service.
pub struct SongProducerService {
    studio: Studio,
}

impl SongProducerService {
    /// A service doing its work in `studio`.
    pub fn new(studio: Studio) -> Self {
        Self { studio }
    }
}

/// Answers a server stream once its first message is ready, so that a failure before
/// anything was sent is the call's status (a trailers-only response: UNAVAILABLE that
/// Envoy and clients can act on, an HTTP error over JSON), not a 200 whose status comes
/// in trailers that a JSON client never sees and that a killed replica never sends.
async fn first_then_rest<T: Send + 'static>(
    stream: impl Stream<Item = Result<T, Status>> + Send + 'static,
) -> Result<Response<ReplyStream<T>>, Status> {
    let mut stream = Box::pin(stream);
    match stream.next().await {
        None => Ok(Response::new(Box::pin(futures::stream::empty()))),
        Some(Err(status)) => Err(status),
        Some(Ok(first)) => Ok(Response::new(Box::pin(
            futures::stream::once(async { Ok(first) }).chain(stream),
        ))),
    }
}

/// What MakeMeSuperstar and StreamAlbum both read from their request: the caller, the
/// plan, and the request id's key (MakeMeSuperstar's for both, so that they share ids).
fn album_request(
    request: Request<MakeMeSuperstarRequest>,
) -> Result<(CallContext, AlbumPlan, Option<RequestKey>), Error> {
    let context = CallContext::from_metadata(request.metadata());
    let mut request = request.into_inner();
    let plan = AlbumPlan::parse(&request)?;
    let key = RequestKey::take("MakeMeSuperstar", &mut request, |request| {
        &mut request.request_id
    })?;
    Ok((context, plan, key))
}

#[tonic::async_trait]
impl SongProducer for SongProducerService {
    async fn make_me_superstar(
        &self,
        request: Request<MakeMeSuperstarRequest>,
    ) -> Result<Response<Album>, Status> {
        let (context, plan, key) = album_request(request)?;
        let album = self.studio.make_album(plan, key, &context, None).await?;
        tracing::info!(album_id = %album.id, songs = album.songs.len(), "album made");
        Ok(Response::new(album))
    }

    type StreamAlbumStream = ReplyStream<AlbumProgress>;

    /// MakeMeSuperstar with its steps streamed. The album is made by the same studio
    /// call, so everything said there holds: nothing of a failed album stays, and a
    /// client that goes away stops it (unless it sent a request id). The request id is
    /// MakeMeSuperstar's: a repeat through either RPC gets the first album.
    async fn stream_album(
        &self,
        request: Request<MakeMeSuperstarRequest>,
    ) -> Result<Response<Self::StreamAlbumStream>, Status> {
        let (context, plan, key) = album_request(request)?;
        let studio = self.studio.clone();
        let (steps, mut taken) = tokio::sync::mpsc::unbounded_channel();
        let progress = async_stream::try_stream! {
            let album = studio.make_album(plan, key, &context, Some(steps));
            tokio::pin!(album);
            // The steps while the album is made; the album's task drops its sender as it
            // ends, so once the album is here, what is left to take is finite.
            let album = loop {
                tokio::select! {
                    biased;
                    Some(event) = taken.recv() => yield AlbumProgress { event: Some(event) },
                    album = &mut album => break album,
                }
            };
            while let Some(event) = taken.recv().await {
                yield AlbumProgress { event: Some(event) };
            }
            let album = album?;
            tracing::info!(album_id = %album.id, songs = album.songs.len(), "album made");
            yield AlbumProgress { event: Some(album_progress::Event::Album(album)) };
        };
        first_then_rest(progress.map_err(|error: Error| Status::from(error))).await
    }

    type GenerateLyricsStream = ReplyStream<Song>;

    async fn generate_lyrics(
        &self,
        request: Request<GenerateLyricsRequest>,
    ) -> Result<Response<Self::GenerateLyricsStream>, Status> {
        let context = CallContext::from_metadata(request.metadata());
        let request = request.into_inner();
        let genre = Genre::parse(&request.genre).map_err(Error::from)?;
        let theme = Theme::parse(&request.theme).map_err(Error::from)?;
        let count = SongsCount::parse(request.songs_count).map_err(Error::from)?;
        let songs = self
            .studio
            .generate(SongBrief::tracks(&genre, &theme, count), &context)
            .await?;
        first_then_rest(songs.map_err(Status::from)).await
    }

    async fn compile_album(
        &self,
        request: Request<Streaming<SongIdea>>,
    ) -> Result<Response<Album>, Status> {
        let context = CallContext::from_metadata(request.metadata());
        let mut ideas_stream = request.into_inner();
        let mut ideas = Vec::new();
        // The request id is the first idea's; the fingerprint covers every idea.
        let mut request_id = None;
        let mut sent = Vec::new();
        while let Some(mut idea) = ideas_stream.message().await? {
            let number = ideas.len() + 1;
            let named = RequestId::parse(&idea.request_id).map_err(Error::from)?;
            match (number, named) {
                (1, named) => request_id = named,
                (_, Some(named)) if Some(named) != request_id => {
                    return Err(Error::from(InvalidField::new(
                        "request_id",
                        format!("idea {number} names another request id than the first idea"),
                    ))
                    .into());
                }
                _ => {}
            }
            idea.request_id.clear();
            let parse =
                || Ok::<_, InvalidField>((Genre::parse(&idea.genre)?, Theme::parse(&idea.theme)?));
            let parsed = parse().map_err(|mut field| {
                field.reason = format!("{} (idea {number})", field.reason);
                Error::from(field)
            })?;
            ideas.push(parsed);
            sent.push(idea);
            if ideas.len() > SongsCount::MAX {
                break; // from_ideas names the limit
            }
        }
        let plan = AlbumPlan::from_ideas(ideas).map_err(Error::from)?;
        let key = request_id.map(|id| RequestKey::new(id, Fingerprint::of("CompileAlbum", &sent)));
        let album = self.studio.make_album(plan, key, &context, None).await?;
        tracing::info!(album_id = %album.id, songs = album.songs.len(), "album compiled");
        Ok(Response::new(album))
    }

    type JamStream = ReplyStream<JamReply>;

    async fn jam(
        &self,
        request: Request<Streaming<JamRequest>>,
    ) -> Result<Response<Self::JamStream>, Status> {
        let context = CallContext::from_metadata(request.metadata());
        let replies = self.studio.jam(request.into_inner(), &context);
        Ok(Response::new(Box::pin(replies.map_err(Status::from))))
    }

    async fn get_song(&self, request: Request<GetSongRequest>) -> Result<Response<Song>, Status> {
        let request = request.into_inner();
        let id = resource_id("id", &request.id).map_err(Error::from)?;
        let mask = ReadMask::parse(request.read_mask).map_err(Error::from)?;
        let song = self.studio.songs().song(id).await.map_err(Error::from)?;
        Ok(Response::new(
            mask.apply(song.ok_or(Error::SongNotFound(id))?),
        ))
    }

    async fn list_songs(
        &self,
        request: Request<ListSongsRequest>,
    ) -> Result<Response<ListSongsResponse>, Status> {
        let request = request.into_inner();
        let size = PageSize::parse(request.page_size).map_err(Error::from)?;
        let genre = bounded_text("genre", &request.genre, 0, 64).map_err(Error::from)?;
        let key = genre_key(&genre);
        let after = page_token::start(&request.page_token, &key).map_err(Error::from)?;
        let filter = (!key.is_empty()).then_some(key.as_str());
        let page = self
            .studio
            .songs()
            .list(filter, after, size.get())
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListSongsResponse {
            songs: page.songs,
            next_page_token: page_token::next(page.next, &key),
        }))
    }

    async fn list_albums(
        &self,
        request: Request<ListAlbumsRequest>,
    ) -> Result<Response<ListAlbumsResponse>, Status> {
        let request = request.into_inner();
        let size = PageSize::parse(request.page_size).map_err(Error::from)?;
        let after =
            page_token::start(&request.page_token, page_token::ALBUMS).map_err(Error::from)?;
        let page = self
            .studio
            .songs()
            .list_albums(after, size.get())
            .await
            .map_err(Error::from)?;
        Ok(Response::new(ListAlbumsResponse {
            albums: page.albums,
            next_page_token: page_token::next(page.next, page_token::ALBUMS),
        }))
    }

    async fn get_album(
        &self,
        request: Request<GetAlbumRequest>,
    ) -> Result<Response<Album>, Status> {
        let id = resource_id("id", &request.get_ref().id).map_err(Error::from)?;
        let album = self.studio.songs().album(id).await.map_err(Error::from)?;
        Ok(Response::new(album.ok_or(Error::AlbumNotFound(id))?))
    }
}

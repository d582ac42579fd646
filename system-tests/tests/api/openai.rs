//! Both services with the OpenAI providers, pointed at a wiremock server that speaks
//! OpenAI's wire format: what clients get when the model answers, and the status of
//! each way it fails, with nothing stored for a failed request.

use std::time::Duration;

use futures::StreamExt;
use superstar_proto::v1::{
    Album, GenerateLyricsRequest, GetCoverImageRequest, JamRequest, JamStart, ListSongsRequest,
    Song, jam_reply::Event, jam_request::Action,
};
use superstar_system_tests::TestSystem;
use superstar_testkit::openai::{self, CHAT_MODEL, IMAGE_MODEL, SONG, SONG_JSON};
use tonic::{Code, Status};
use wiremock::{
    Mock, MockServer, Request, ResponseTemplate,
    matchers::{method, path},
};

use super::*;

const KEY: &str = "sk-system-test-key";

fn chat() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/chat/completions"))
}

fn images() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(path("/v1/images/generations"))
}

/// Non-streamed chat requests for a song as structured output (albums).
fn whole(request: &Request) -> bool {
    openai::body(request)["stream"] == false && openai::asks_for_a_song(request)
}

/// Streamed chat requests for a song as structured output (Jam, GenerateLyrics).
fn streamed(request: &Request) -> bool {
    openai::body(request)["stream"] == true && openai::asks_for_a_song(request)
}

async fn system(server: &MockServer) -> TestSystem {
    TestSystem::start_with_openai(&format!("{}/v1", server.uri()), KEY).await
}

/// `MakeMeSuperstar` for `count` synthwave songs about neon nights.
async fn make_album(system: &mut TestSystem, count: i32) -> Result<Album, Status> {
    system
        .songs
        .make_me_superstar(album_request("synthwave", "neon nights", count))
        .await
        .map(tonic::Response::into_inner)
}

/// `GenerateLyrics` for `count` synthwave songs about neon nights: every item streamed.
async fn generate_lyrics(system: &mut TestSystem, count: i32) -> Vec<Result<Song, Status>> {
    system
        .songs
        .generate_lyrics(GenerateLyricsRequest {
            genre: "synthwave".into(),
            theme: "neon nights".into(),
            songs_count: count,
        })
        .await
        .unwrap()
        .into_inner()
        .collect()
        .await
}

async fn stored_songs(system: &mut TestSystem) -> usize {
    system
        .songs
        .list_songs(ListSongsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .songs
        .len()
}

#[tokio::test]
async fn an_album_is_written_and_painted_by_the_models() {
    let server = MockServer::start().await;
    chat()
        .and(whole)
        .respond_with(openai::chat_reply(SONG_JSON))
        .expect(2)
        .mount(&server)
        .await;
    let png = openai::png(96, 64);
    images()
        .and(|request: &Request| {
            let prompt = openai::body(request)["prompt"].to_string();
            prompt.contains("Neon Nights") && prompt.contains("synthwave")
        })
        .respond_with(openai::image_reply(&png, "neon, revised"))
        .expect(1)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let album = make_album(&mut system, 2).await.unwrap();

    assert_eq!(album.title, "Neon Nights");
    assert_eq!(album.songs.len(), 2);
    for song in &album.songs {
        assert_eq!(song.model, CHAT_MODEL);
        assert_eq!(song_text(song).trim(), SONG.trim());
    }
    let cover = album.cover.unwrap();
    assert_eq!(cover.model, IMAGE_MODEL);
    assert_eq!((cover.width, cover.height), (96, 64));
    let image = system
        .covers
        .get_cover_image(GetCoverImageRequest { id: cover.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(image.content_type, "image/png");
    assert_eq!(image.data, png);
}

#[tokio::test]
async fn jam_passes_the_models_deltas_on_in_order() {
    let server = MockServer::start().await;
    let pieces = openai::pieces(SONG_JSON, 5);
    chat()
        .and(streamed)
        .respond_with(openai::chat_stream(&pieces))
        .expect(1)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let start = JamRequest {
        action: Some(Action::Start(JamStart {
            genre: "synthwave".into(),
            theme: "neon nights".into(),
        })),
    };
    let mut replies = system
        .songs
        .jam(futures::stream::iter([start]))
        .await
        .unwrap()
        .into_inner();
    let mut deltas = Vec::new();
    let song = loop {
        match replies.next().await.unwrap().unwrap().event.unwrap() {
            Event::Delta(delta) => deltas.push(delta),
            Event::Song(song) => break song,
        }
    };

    assert_eq!(deltas.concat(), SONG);
    // Each line of the song as soon as the model's JSON has it whole.
    assert!(deltas.len() >= 7, "{} deltas", deltas.len());
    assert_eq!(song.model, CHAT_MODEL);
    assert_eq!(song.title, "Neon Nights");
}

#[tokio::test]
async fn generate_lyrics_streams_each_song_the_model_wrote() {
    let server = MockServer::start().await;
    chat()
        .and(streamed)
        .respond_with(openai::chat_stream(&openai::pieces(SONG_JSON, 9)))
        .expect(3)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let songs = generate_lyrics(&mut system, 3).await;

    assert_eq!(songs.len(), 3);
    assert!(
        songs
            .into_iter()
            .all(|song| song.unwrap().model == CHAT_MODEL)
    );
}

#[tokio::test]
async fn a_model_that_stays_down_leaves_nothing_behind() {
    let server = MockServer::start().await;
    chat()
        .respond_with(ResponseTemplate::new(500).set_body_string("boom"))
        .expect(3)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let error = make_album(&mut system, 1).await.unwrap_err();

    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
    assert_eq!(stored_songs(&mut system).await, 0);
}

#[tokio::test]
async fn a_painter_that_stays_down_leaves_no_songs_behind() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply(SONG_JSON))
        .mount(&server)
        .await;
    images()
        .respond_with(ResponseTemplate::new(502).set_body_string("bad gateway"))
        .expect(3)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let error = make_album(&mut system, 2).await.unwrap_err();

    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
    assert_eq!(stored_songs(&mut system).await, 0);
}

#[tokio::test]
async fn a_model_slower_than_the_deadline_gives_deadline_exceeded_promptly() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply(SONG_JSON).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let mut request = tonic::Request::new(album_request("synthwave", "neon nights", 1));
    request.set_timeout(Duration::from_secs(1));
    let error = system.songs.make_me_superstar(request).await.unwrap_err();

    // DEADLINE_EXCEEDED is the service's own answer: tonic's timer for the request's
    // grpc-timeout, had it fired first, would have cancelled the call (CANCELLED,
    // "Timeout expired").
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error:?}");
    assert_eq!(stored_songs(&mut system).await, 0);

    // A Jam stream's deadline ends its take the same way.
    let start = JamRequest {
        action: Some(Action::Start(JamStart {
            genre: "synthwave".into(),
            theme: "neon nights".into(),
        })),
    };
    let mut jam =
        tonic::Request::new(futures::stream::iter([start]).chain(futures::stream::pending()));
    jam.set_timeout(Duration::from_secs(1));
    let mut replies = system.songs.jam(jam).await.unwrap().into_inner();
    let error = replies.next().await.unwrap().unwrap_err();
    assert_eq!(error.code(), Code::DeadlineExceeded, "{error:?}");
}

#[tokio::test]
async fn an_exhausted_quota_is_resource_exhausted() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::quota_exhausted())
        .expect(1)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let error = make_album(&mut system, 1).await.unwrap_err();

    assert_eq!(error.code(), Code::ResourceExhausted, "{error:?}");
    assert!(error.message().contains("quota"), "{}", error.message());
}

#[tokio::test]
async fn a_cover_the_safety_system_rejects_names_the_field_its_prompt_came_from() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::chat_reply(SONG_JSON))
        .mount(&server)
        .await;
    images()
        .respond_with(openai::content_policy())
        .expect(2)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let request = MakeMeSuperstarRequest {
        cover_description: "something the safety system refuses".into(),
        ..album_request("synthwave", "neon nights", 1)
    };
    let error = system.songs.make_me_superstar(request).await.unwrap_err();

    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
    assert!(
        error.message().starts_with("cover_description: ")
            && error.message().contains("safety system"),
        "{}",
        error.message()
    );
    assert_eq!(
        superstar_proto::errors::reason(&error).as_deref(),
        Some("PROMPT_REJECTED")
    );
    assert_eq!(stored_songs(&mut system).await, 0);

    // Without a description of the client's, the prompt was made from its theme.
    let error = make_album(&mut system, 1).await.unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
    assert!(
        error.message().starts_with("theme: ") && error.message().contains("safety system"),
        "{}",
        error.message()
    );
    assert_eq!(
        superstar_proto::errors::reason(&error).as_deref(),
        Some("PROMPT_REJECTED")
    );
}

#[tokio::test]
async fn a_rejected_key_is_unavailable_to_clients() {
    let server = MockServer::start().await;
    chat()
        .respond_with(openai::bad_key(KEY))
        .expect(1)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let error = make_album(&mut system, 1).await.unwrap_err();

    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
    assert!(!error.message().contains(&KEY[..6]), "{}", error.message());
}

#[tokio::test]
async fn the_key_reaches_no_log_line_and_no_debug_output() {
    let (logs, _guard) = superstar_testkit::CapturedLogs::start();
    let server = MockServer::start().await;
    chat()
        .and(whole)
        .respond_with(openai::chat_reply(SONG_JSON))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    chat()
        .respond_with(openai::bad_key(KEY))
        .mount(&server)
        .await;
    images()
        .respond_with(openai::image_reply(&openai::png(8, 8), "x"))
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    make_album(&mut system, 1).await.unwrap();
    make_album(&mut system, 1).await.unwrap_err();

    let logged = logs.text();
    assert!(logged.contains("MakeMeSuperstar"), "{logged}");
    assert!(!logged.contains(KEY), "{logged}");
    let settings = openai::settings(&server.uri(), KEY, CHAT_MODEL, 1);
    let printed = format!("{:?}", superstar_openai::Provider::OpenAi(settings));
    assert!(!printed.contains(KEY), "{printed}");
}

/// The first half of [`SONG_JSON`]: its title and first lines read as a song's.
fn cut_song() -> &'static str {
    &SONG_JSON[..SONG_JSON.len() / 2]
}

#[tokio::test]
async fn an_album_whose_replies_are_cut_at_the_token_limit_stores_nothing() {
    let server = MockServer::start().await;
    chat()
        .and(whole)
        .respond_with(openai::chat_reply_cut(cut_song()))
        .expect(2)
        .mount(&server)
        .await;
    images()
        .respond_with(openai::image_reply(&openai::png(8, 8), "unused"))
        .expect(0)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let error = make_album(&mut system, 1).await.unwrap_err();

    assert_eq!(error.code(), Code::Unavailable, "{error:?}");
    assert!(error.message().contains("cut off"), "{error:?}");
    assert_eq!(stored_songs(&mut system).await, 0);
}

#[tokio::test]
async fn generate_lyrics_asks_again_for_a_song_cut_at_the_token_limit() {
    let server = MockServer::start().await;
    let cut = openai::pieces(cut_song(), 9);
    chat()
        .and(streamed)
        .respond_with(openai::chat_stream_cut(&cut))
        .up_to_n_times(1)
        .expect(1)
        .mount(&server)
        .await;
    chat()
        .and(streamed)
        .respond_with(openai::chat_stream(&[SONG_JSON]))
        .expect(1)
        .mount(&server)
        .await;
    let mut system = system(&server).await;

    let songs = generate_lyrics(&mut system, 1).await;

    assert_eq!(songs.len(), 1);
    let song = songs.into_iter().next().unwrap().unwrap();
    let whole = song_producer::domain::WrittenSong::parse(SONG).unwrap();
    assert_eq!(song.title, whole.title);
    assert_eq!(stored_songs(&mut system).await, 1);
}

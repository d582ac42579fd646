//! StreamAlbum: MakeMeSuperstar with its steps streamed, each track as it is written,
//! the cover, then the stored album.

use std::time::Duration;

use superstar_proto::v1::{AlbumProgress, ListSongsRequest, album_progress::Event};
use superstar_system_tests::{Setup, TestSystem};
use tonic::{Code, Status};

use super::*;

/// Every message of one StreamAlbum call, or the status it ended with (and the
/// messages before it).
async fn stream_album(
    system: &mut TestSystem,
    who: &str,
    request: MakeMeSuperstarRequest,
) -> (Vec<Event>, Result<(), Status>) {
    let mut stream = match system.songs.stream_album(as_client(who, request)).await {
        Ok(response) => response.into_inner(),
        Err(status) => return (Vec::new(), Err(status)),
    };
    let mut events = Vec::new();
    loop {
        match stream.message().await {
            Ok(Some(AlbumProgress { event: Some(event) })) => events.push(event),
            Ok(Some(AlbumProgress { event: None })) => panic!("a message with no event"),
            Ok(None) => return (events, Ok(())),
            Err(status) => return (events, Err(status)),
        }
    }
}

on_both_backends! {
    /// The songs come in track order, before anything is stored: the first is on the
    /// wire while the store is still empty. Then the cover, then the album, whose songs
    /// are the ones streamed, now with ids.
    async fn an_album_streams_each_song_then_its_cover_then_itself(backend: Backend) {
        let mut system = TestSystem::start_with(Setup {
            backend,
            typing_delay: Duration::from_millis(3),
            ..Setup::default()
        })
        .await;
        let mut stream = system
            .songs
            .stream_album(as_client("alice", album_request("synthwave", "night drive", 3)))
            .await
            .unwrap()
            .into_inner();
        let first = stream.message().await.unwrap().unwrap().event.unwrap();
        let Event::Song(first) = first else { panic!("a song first: {first:?}") };
        let listed = system.songs.list_songs(ListSongsRequest::default()).await.unwrap().into_inner();
        assert!(listed.songs.is_empty(), "the first song streams before the album is stored");
        assert!(first.id.is_empty() && first.album_id.is_none(), "not stored yet: {first:?}");

        let mut events = vec![Event::Song(first)];
        while let Some(message) = stream.message().await.unwrap() {
            events.push(message.event.unwrap());
        }
        let [Event::Song(_), Event::Song(_), Event::Song(_), Event::Cover(cover), Event::Album(album)] =
            &events[..]
        else {
            panic!("three songs, a cover, the album: {events:?}");
        };
        assert_eq!(album.cover.as_ref(), Some(cover));
        for (streamed, stored) in events.iter().zip(&album.songs) {
            let Event::Song(streamed) = streamed else { unreachable!() };
            assert_eq!(streamed.title, stored.title);
            assert_eq!(streamed.lyrics, stored.lyrics);
            assert_eq!((streamed.genre.as_str(), streamed.theme.as_str()), ("synthwave", "night drive"));
            assert_eq!(streamed.model, "offline");
            assert_eq!(stored.album_id(), album.id);
        }
        assert_eq!(system.song_producer_rows("songs").await, 3);
        assert_eq!(system.song_producer_rows("albums").await, 1);
    }
}

on_both_backends! {
    /// The cover designer is gone: the songs were written and streamed, then the
    /// stream ends UNAVAILABLE and nothing is stored.
    async fn a_failed_streamed_album_ends_with_the_error_and_leaves_nothing(backend: Backend) {
        let mut system = TestSystem::start_on(backend).await;
        system.stop_cover_designer().await;
        let (events, end) = stream_album(&mut system, "alice", album_request("jazz", "rain", 2)).await;
        assert_eq!(end.expect_err("no cover, no album").code(), Code::Unavailable);
        assert!(events.iter().all(|event| matches!(event, Event::Song(_))), "{events:?}");
        assert_eq!(system.song_producer_rows("songs").await, 0);
        assert_eq!(system.song_producer_rows("albums").await, 0);
    }
}

/// Bad input is refused before anything is written, naming the field.
#[tokio::test]
async fn a_bad_streamed_album_request_names_the_field() {
    let mut system = TestSystem::start().await;
    let (events, end) = stream_album(&mut system, "alice", album_request("", "rain", 2)).await;
    let refused = end.expect_err("no genre");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(
        refused.message().starts_with("genre"),
        "{}",
        refused.message()
    );
    assert!(events.is_empty());
}

/// The request id is MakeMeSuperstar's: a streamed album repeated through either RPC
/// is the first album again; a streamed repeat is that album alone; another client's
/// same id is another album.
#[tokio::test]
async fn a_streamed_album_shares_its_request_id_with_make_me_superstar() {
    let mut system = TestSystem::start().await;
    let request = MakeMeSuperstarRequest {
        request_id: "3f0e2d9c-8b7a-4c6d-9e5f-1a2b3c4d5e6f".into(),
        ..album_request("synthwave", "one album only", 2)
    };
    let (events, end) = stream_album(&mut system, "alice", request.clone()).await;
    end.unwrap();
    let Some(Event::Album(first)) = events.last() else {
        panic!("{events:?}")
    };
    assert_eq!(events.len(), 4, "two songs, the cover, the album");

    let again = system
        .songs
        .make_me_superstar(as_client("alice", request.clone()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(&again, first);
    let (events, end) = stream_album(&mut system, "alice", request.clone()).await;
    end.unwrap();
    assert_eq!(
        events,
        [Event::Album(first.clone())],
        "a repeat is the album alone"
    );
    assert_eq!(system.song_producer_rows("albums").await, 1);

    let (events, end) = stream_album(&mut system, "bob", request).await;
    end.unwrap();
    let Some(Event::Album(bobs)) = events.last() else {
        panic!("{events:?}")
    };
    assert_ne!(bobs.id, first.id, "bob's id is his own");
    assert_eq!(system.song_producer_rows("albums").await, 2);
}

//! GenerateLyrics (server streaming), GetSong with a read mask, ListSongs paging, and
//! persistence across a restart.

use std::collections::HashSet;

use futures::TryStreamExt;
use prost_types::FieldMask;
use superstar_proto::v1::{
    GenerateLyricsRequest, GetCoverImageRequest, GetSongRequest, ListSongsRequest,
};
use superstar_system_tests::TestSystem;

use super::*;

#[tokio::test]
async fn generate_lyrics_streams_each_stored_song() {
    let mut system = TestSystem::start().await;
    let request = GenerateLyricsRequest {
        genre: "gangsta rap".into(),
        theme: "money and fast cars".into(),
        songs_count: 3,
    };
    let mut stream = system
        .songs
        .generate_lyrics(request)
        .await
        .expect("a stream")
        .into_inner();

    let mut songs = Vec::new();
    while let Some(song) = stream.message().await.expect("a song") {
        // Each song is stored before it is sent: it can be read back while the stream is open.
        let stored = system
            .songs
            .get_song(GetSongRequest {
                id: song.id.clone(),
                read_mask: None,
            })
            .await
            .unwrap();
        assert_eq!(stored.into_inner(), song);
        assert!(
            song.album_id.as_deref() == Some(""),
            "songs made on their own have no album"
        );
        songs.push(song);
    }
    assert_eq!(songs.len(), 3);
    assert_eq!(
        songs
            .iter()
            .map(|s| s.lyrics.clone())
            .collect::<HashSet<_>>()
            .len(),
        3,
        "three different songs"
    );
}

#[tokio::test]
async fn get_song_returns_only_the_masked_fields() {
    let mut system = TestSystem::start().await;
    let album = system
        .songs
        .make_me_superstar(album_request("jazz", "rain", 1))
        .await
        .unwrap()
        .into_inner();
    let full = &album.songs[0];
    let mask = FieldMask {
        paths: vec!["title".into(), "lyrics".into()],
    };
    let song = system
        .songs
        .get_song(GetSongRequest {
            id: full.id.clone(),
            read_mask: Some(mask),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (song.title.as_str(), song.lyrics.as_str()),
        (full.title.as_str(), full.lyrics.as_str())
    );
    assert!(
        song.id.is_empty()
            && song.genre.is_empty()
            && song.album_id.is_none()
            && song.create_time.is_none()
    );
}

on_both_backends! {
    async fn list_songs_pages_newest_first(backend: Backend) {
        let mut system = TestSystem::start_on(backend).await;
        let mut made = Vec::new();
        for (genre, theme) in [("jazz", "rain"), ("Heavy Metal", "steel"), ("jazz", "snow"), ("jazz", "sun")] {
            let album = system.songs.make_me_superstar(album_request(genre, theme, 2)).await.unwrap().into_inner();
            made.extend(album.songs);
        }

        let mut listed = Vec::new();
        let mut token = String::new();
        let mut pages = 0;
        loop {
            let page = system
                .songs
                .list_songs(ListSongsRequest { page_size: 3, page_token: token.clone(), genre: String::new() })
                .await
                .expect("a page")
                .into_inner();
            pages += 1;
            assert!(page.songs.len() <= 3);
            listed.extend(page.songs);
            if page.next_page_token.is_empty() {
                break;
            }
            token = page.next_page_token;
        }
        assert_eq!(pages, 3, "8 songs in pages of 3");
        let ids = |songs: &[superstar_proto::v1::Song]| songs.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        let mut newest_first = made.clone();
        newest_first.sort_by(|a, b| {
            let key = |s: &superstar_proto::v1::Song| (s.create_time.unwrap().seconds, s.create_time.unwrap().nanos, s.id.clone());
            key(b).cmp(&key(a))
        });
        assert_eq!(ids(&listed), ids(&newest_first));

        let metal = system
            .songs
            .list_songs(ListSongsRequest { page_size: 0, page_token: String::new(), genre: "heavy  metal".into() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(metal.songs.len(), 2, "the genre filter ignores case and spacing");
        assert!(metal.songs.iter().all(|s| s.genre == "Heavy Metal"));
        assert!(metal.next_page_token.is_empty());
    }
}

on_both_backends! {
    async fn songs_albums_and_covers_survive_a_restart(backend: Backend) {
        let mut system = TestSystem::start_on(backend).await;
        let album = system.songs.make_me_superstar(album_request("pop", "summer", 2)).await.unwrap().into_inner();
        let cover_id = album.cover.clone().unwrap().id;
        let image = system.covers.get_cover_image(GetCoverImageRequest { id: cover_id.clone() }).await.unwrap().into_inner();

        let mut system = system.restart().await;
        let stored = system
            .songs
            .get_album(superstar_proto::v1::GetAlbumRequest { id: album.id.clone() })
            .await
            .expect("the album survived")
            .into_inner();
        assert_eq!(stored, album);
        let listed = system.songs.list_songs(ListSongsRequest::default()).await.unwrap().into_inner();
        assert_eq!(listed.songs.len(), 2);
        let after = system.covers.get_cover_image(GetCoverImageRequest { id: cover_id }).await.unwrap().into_inner();
        assert_eq!(after.data, image.data, "the image survived");
    }
}

#[tokio::test]
async fn a_client_may_stop_reading_a_stream() {
    let mut system = TestSystem::start().await;
    let request = GenerateLyricsRequest {
        genre: "pop".into(),
        theme: "goodbyes".into(),
        songs_count: 10,
    };
    let mut stream = system
        .songs
        .generate_lyrics(request)
        .await
        .unwrap()
        .into_inner();
    let first = stream.try_next().await.unwrap().expect("one song");
    drop(stream);
    // The service keeps serving after the client hung up.
    let again = system
        .songs
        .get_song(GetSongRequest {
            id: first.id,
            read_mask: None,
        })
        .await;
    assert!(again.is_ok());
}

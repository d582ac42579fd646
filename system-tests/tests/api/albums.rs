//! MakeMeSuperstar, CompileAlbum and GetAlbum: albums, their songs and their covers.

use superstar_proto::v1::{
    GetAlbumRequest, GetCoverImageRequest, GetCoverRequest, GetSongRequest, ListAlbumsRequest,
    ListSongsRequest, SongIdea,
};
use superstar_system_tests::TestSystem;

use super::*;

on_both_backends! {
    async fn an_album_is_made_stored_and_covered(backend: Backend) {
        let mut system = TestSystem::start_on(backend).await;
        let album = system
            .songs
            .make_me_superstar(album_request("heavy metal", "dragons over the city", 3))
            .await
            .expect("an album")
            .into_inner();

        assert_eq!(album.genre, "heavy metal");
        assert_eq!(album.songs.len(), 3);
        assert_eq!(album.title, album.songs[0].title, "an album is named after its first track");
        for song in &album.songs {
            assert_eq!(song.album_id(), album.id);
            assert_eq!(song.model, "offline");
            assert!(song.lyrics.contains("[Chorus]"));
        }
        let cover = album.cover.clone().expect("a cover");
        assert_eq!(cover.image_uri, format!("/v1/covers/{}/image", cover.id));
        assert!(cover.description.contains(&album.title), "the cover is derived from the album");

        let stored = system.songs.get_album(GetAlbumRequest { id: album.id.clone() }).await.unwrap().into_inner();
        assert_eq!(stored, album);
        let stored_cover = system.covers.get_cover(GetCoverRequest { id: cover.id.clone() }).await.unwrap().into_inner();
        assert_eq!(stored_cover, cover);
        let song = system
            .songs
            .get_song(GetSongRequest { id: album.songs[1].id.clone(), read_mask: None })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(song, album.songs[1]);
    }
}

on_both_backends! {
    async fn a_failed_album_leaves_nothing_behind(backend: Backend) {
        let mut system = TestSystem::start_on(backend).await;
        system.stop_cover_designer().await;

        let error = system
            .songs
            .make_me_superstar(album_request("jazz", "rain", 2))
            .await
            .expect_err("no cover designer, no album");
        assert_eq!(error.code(), tonic::Code::Unavailable, "{error:?}");

        let listed = system.songs.list_songs(ListSongsRequest::default()).await.unwrap().into_inner();
        assert!(listed.songs.is_empty(), "no song of the failed album was stored: {listed:?}");
    }
}

#[tokio::test]
async fn the_clients_cover_description_is_used() {
    let mut system = TestSystem::start().await;
    let mut request = album_request("synthwave", "night drive", 1);
    request.cover_description = "a purple sun over an empty highway".into();
    let album = system
        .songs
        .make_me_superstar(request)
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        album.cover.unwrap().description,
        "a purple sun over an empty highway"
    );
}

#[tokio::test]
async fn compile_album_makes_one_track_per_idea() {
    let mut system = TestSystem::start().await;
    let ideas = vec![
        SongIdea {
            genre: "gangsta rap".into(),
            theme: "the block".into(),
            ..Default::default()
        },
        SongIdea {
            genre: "heavy metal".into(),
            theme: "iron".into(),
            ..Default::default()
        },
        SongIdea {
            genre: "polish disco polo".into(),
            theme: "wakacje".into(),
            ..Default::default()
        },
    ];
    let album = system
        .songs
        .compile_album(tokio_stream::iter(ideas.clone()))
        .await
        .expect("an album from a client stream")
        .into_inner();

    assert_eq!(album.genre, "various");
    assert_eq!(album.theme, "the block; iron; wakacje");
    let tracks: Vec<(&str, &str)> = album
        .songs
        .iter()
        .map(|s| (s.genre.as_str(), s.theme.as_str()))
        .collect();
    assert_eq!(
        tracks,
        [
            ("gangsta rap", "the block"),
            ("heavy metal", "iron"),
            ("polish disco polo", "wakacje")
        ]
    );
    let image = system
        .covers
        .get_cover_image(GetCoverImageRequest {
            id: album.cover.unwrap().id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(image.content_type, "image/png");
}

#[tokio::test]
async fn offline_albums_are_deterministic() {
    let mut system = TestSystem::start().await;
    let first = system
        .songs
        .make_me_superstar(album_request("jazz", "a rainy Tuesday", 2))
        .await
        .unwrap()
        .into_inner();
    let second = system
        .songs
        .make_me_superstar(album_request("jazz", "a rainy Tuesday", 2))
        .await
        .unwrap()
        .into_inner();
    assert_ne!(first.id, second.id);
    let lyrics = |album: &superstar_proto::v1::Album| {
        album
            .songs
            .iter()
            .map(|s| s.lyrics.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(lyrics(&first), lyrics(&second));
    assert_ne!(
        first.songs[0].lyrics, first.songs[1].lyrics,
        "tracks of one album differ"
    );

    let image = |id: String| {
        let mut covers = system.covers.clone();
        async move {
            covers
                .get_cover_image(GetCoverImageRequest { id })
                .await
                .unwrap()
                .into_inner()
                .data
        }
    };
    assert_eq!(
        image(first.cover.unwrap().id).await,
        image(second.cover.unwrap().id).await
    );
}

on_both_backends! {
    /// Albums page newest first, each whole (its songs in order, its cover); a song made
    /// on its own is in no album; the last page has no token; a songs token is refused.
    async fn albums_are_listed_newest_first_a_page_at_a_time(backend: Backend) {
        let mut system = TestSystem::start_on(backend).await;
        let mut made = Vec::new();
        for theme in ["first light", "second wind", "third rail"] {
            let album = system.songs.make_me_superstar(album_request("synthwave", theme, 2)).await.unwrap().into_inner();
            made.push(album);
        }
        let mut lyrics = system
            .songs
            .generate_lyrics(superstar_proto::v1::GenerateLyricsRequest {
                genre: "jazz".into(),
                theme: "alone".into(),
                songs_count: 1,
            })
            .await
            .unwrap()
            .into_inner();
        while lyrics.message().await.unwrap().is_some() {}

        let first = system
            .songs
            .list_albums(ListAlbumsRequest { page_size: 2, page_token: String::new() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.albums, [made[2].clone(), made[1].clone()], "newest first, whole");
        assert!(!first.next_page_token.is_empty());
        let second = system
            .songs
            .list_albums(ListAlbumsRequest { page_size: 2, page_token: first.next_page_token.clone() })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(second.albums, [made[0].clone()]);
        assert!(second.next_page_token.is_empty(), "the last page");

        let songs_page = system
            .songs
            .list_songs(ListSongsRequest { page_size: 1, ..Default::default() })
            .await
            .unwrap()
            .into_inner();
        let refused = system
            .songs
            .list_albums(ListAlbumsRequest { page_size: 2, page_token: songs_page.next_page_token })
            .await
            .expect_err("a songs token is not an albums token");
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        assert!(refused.message().starts_with("page_token"), "{}", refused.message());
        let refused = system
            .songs
            .list_albums(ListAlbumsRequest { page_size: 101, page_token: String::new() })
            .await
            .expect_err("too large a page");
        assert!(refused.message().starts_with("page_size"), "{}", refused.message());
    }
}

//! SPEC section 4 as the services answer it: INVALID_ARGUMENT naming the field,
//! NOT_FOUND for unknown ids, each with AIP-193 details a program reads (a BadRequest
//! naming the field, an ErrorInfo). (UNAVAILABLE:
//! `albums::a_failed_album_leaves_nothing_behind`; RetryInfo: `limits`.)

use prost_types::FieldMask;
use superstar_proto::v1::{
    DesignCoverRequest, GenerateLyricsRequest, GetAlbumRequest, GetCoverImageRequest,
    GetCoverRequest, GetSongRequest, ListSongsRequest, SongIdea,
};
use superstar_system_tests::TestSystem;
use tonic::{Code, Status};
use tonic_types::StatusExt;

use super::*;

#[track_caller]
fn assert_invalid(result: Result<impl std::fmt::Debug, Status>, field: &str) {
    let error = result.expect_err("an invalid request");
    assert_eq!(error.code(), Code::InvalidArgument, "{error:?}");
    assert!(
        error.message().starts_with(&format!("{field}: ")),
        "the message names {field}: {:?}",
        error.message()
    );
    let details = error.get_error_details();
    let violations = &details
        .bad_request()
        .expect("a BadRequest")
        .field_violations;
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(violations[0].field, field);
    assert_eq!(
        format!("{field}: {}", violations[0].description),
        error.message()
    );
    let info = details.error_info().expect("an ErrorInfo");
    assert_eq!(info.domain, "superstar.v1");
    assert!(!info.reason.is_empty());
}

#[tokio::test]
async fn make_me_superstar_names_each_invalid_field() {
    let mut system = TestSystem::start().await;
    let long = |n: usize| "x".repeat(n);
    let cases = [
        (album_request("", "rain", 1), "genre"),
        (album_request(&long(65), "rain", 1), "genre"),
        (album_request("jazz", "   ", 1), "theme"),
        (album_request("jazz", &long(501), 1), "theme"),
        (album_request("jazz", "rain", 11), "songs_count"),
        (album_request("jazz", "rain", -1), "songs_count"),
        (
            MakeMeSuperstarRequest {
                cover_description: long(1001),
                ..album_request("jazz", "rain", 1)
            },
            "cover_description",
        ),
    ];
    for (request, field) in cases {
        assert_invalid(system.songs.make_me_superstar(request).await, field);
    }
    // Limits are inclusive, and counted in characters, not bytes.
    let edge = album_request(&"ż".repeat(64), &"ł".repeat(500), 10);
    assert_eq!(
        system
            .songs
            .make_me_superstar(edge)
            .await
            .unwrap()
            .into_inner()
            .songs
            .len(),
        10
    );
}

#[tokio::test]
async fn streaming_rpcs_name_invalid_fields() {
    let mut system = TestSystem::start().await;
    let request = GenerateLyricsRequest {
        genre: "jazz".into(),
        theme: String::new(),
        songs_count: 1,
    };
    assert_invalid(system.songs.generate_lyrics(request).await, "theme");

    let idea = |genre: &str, theme: &str| SongIdea {
        genre: genre.into(),
        theme: theme.into(),
        ..Default::default()
    };
    assert_invalid(
        system
            .songs
            .compile_album(tokio_stream::iter(Vec::<SongIdea>::new()))
            .await,
        "ideas",
    );
    assert_invalid(
        system
            .songs
            .compile_album(tokio_stream::iter(vec![idea("jazz", "rain"); 11]))
            .await,
        "ideas",
    );
    let error = system
        .songs
        .compile_album(tokio_stream::iter(vec![
            idea("jazz", "rain"),
            idea("", "rain"),
        ]))
        .await
        .expect_err("an idea without a genre");
    assert_eq!(error.message(), "genre: is required (idea 2)");
}

#[tokio::test]
async fn reads_name_invalid_fields() {
    let mut system = TestSystem::start().await;
    assert_invalid(
        system
            .songs
            .get_song(GetSongRequest {
                id: "42".into(),
                read_mask: None,
            })
            .await,
        "id",
    );
    assert_invalid(
        system
            .songs
            .get_album(GetAlbumRequest { id: String::new() })
            .await,
        "id",
    );
    let album = system
        .songs
        .make_me_superstar(album_request("jazz", "rain", 1))
        .await
        .unwrap()
        .into_inner();
    let mask = FieldMask {
        paths: vec!["title".into(), "tempo".into()],
    };
    assert_invalid(
        system
            .songs
            .get_song(GetSongRequest {
                id: album.songs[0].id.clone(),
                read_mask: Some(mask),
            })
            .await,
        "read_mask",
    );

    let list = |page_size: i32, page_token: &str, genre: &str| ListSongsRequest {
        page_size,
        page_token: page_token.into(),
        genre: genre.into(),
    };
    assert_invalid(
        system.songs.list_songs(list(101, "", "")).await,
        "page_size",
    );
    assert_invalid(system.songs.list_songs(list(-5, "", "")).await, "page_size");
    assert_invalid(
        system.songs.list_songs(list(1, "forged-token", "")).await,
        "page_token",
    );
    assert_invalid(
        system.songs.list_songs(list(1, "", &"g".repeat(65))).await,
        "genre",
    );

    // A real token used with another filter is refused too.
    system
        .songs
        .make_me_superstar(album_request("jazz", "snow", 1))
        .await
        .unwrap();
    let page = system
        .songs
        .list_songs(list(1, "", ""))
        .await
        .unwrap()
        .into_inner();
    assert!(!page.next_page_token.is_empty());
    assert_invalid(
        system
            .songs
            .list_songs(list(1, &page.next_page_token, "jazz"))
            .await,
        "page_token",
    );
}

#[tokio::test]
async fn design_cover_names_invalid_fields() {
    let mut system = TestSystem::start().await;
    let request = |description: String, title: String| DesignCoverRequest {
        description,
        title,
        genre: String::new(),
        ..Default::default()
    };
    assert_invalid(
        system
            .covers
            .design_cover(request(String::new(), String::new()))
            .await,
        "description",
    );
    assert_invalid(
        system
            .covers
            .design_cover(request("x".repeat(1001), String::new()))
            .await,
        "description",
    );
    assert_invalid(
        system
            .covers
            .design_cover(request("x".into(), "t".repeat(201)))
            .await,
        "title",
    );
    assert_invalid(
        system
            .covers
            .get_cover(GetCoverRequest { id: "nope".into() })
            .await,
        "id",
    );
}

#[tokio::test]
async fn unknown_ids_are_not_found() {
    let mut system = TestSystem::start().await;
    let unknown = "0195f0a4-7c3e-7d52-9d1c-3f1a2b3c4d5e".to_owned();
    let not_found = |status: Status| {
        assert_eq!(status.code(), Code::NotFound, "{status:?}");
        assert!(status.message().contains(&unknown), "{}", status.message());
        let info = status.get_details_error_info().expect("an ErrorInfo");
        assert!(info.reason.ends_with("_NOT_FOUND"), "{info:?}");
        assert_eq!(info.domain, "superstar.v1");
    };
    not_found(
        system
            .songs
            .get_song(GetSongRequest {
                id: unknown.clone(),
                read_mask: None,
            })
            .await
            .unwrap_err(),
    );
    not_found(
        system
            .songs
            .get_album(GetAlbumRequest {
                id: unknown.clone(),
            })
            .await
            .unwrap_err(),
    );
    not_found(
        system
            .covers
            .get_cover(GetCoverRequest {
                id: unknown.clone(),
            })
            .await
            .unwrap_err(),
    );
    not_found(
        system
            .covers
            .get_cover_image(GetCoverImageRequest {
                id: unknown.clone(),
            })
            .await
            .unwrap_err(),
    );
}

#[tokio::test]
async fn a_failed_call_logs_its_status_message_decoded_under_its_own_key() {
    let (logs, _guard) = superstar_testkit::CapturedLogs::start();
    let mut system = TestSystem::start().await;
    let status = system
        .songs
        .get_song(superstar_proto::v1::GetSongRequest {
            id: "not a valid id".into(),
            read_mask: None,
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), tonic::Code::InvalidArgument);

    // The line is written when the server has sent the status, which the client may
    // read first: wait for it, letting the server's tasks run.
    let failed = |logged: &str| {
        logged
            .lines()
            .find(|line| line.contains("rpc failed") && line.contains("InvalidArgument"))
            .map(str::to_owned)
    };
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    let line = loop {
        let logged = logs.text();
        if let Some(line) = failed(&logged) {
            break line;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no failed-call line: {logged}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    };
    // One `message` (the event) and the status message, decoded, beside it.
    assert_eq!(line.matches("\"message\"").count(), 1, "{line}");
    let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(parsed["fields"]["message"], "rpc failed");
    assert_eq!(
        parsed["fields"]["status_message"],
        status.message(),
        "{line}"
    );
    assert!(!line.contains("%20"), "{line}");
}

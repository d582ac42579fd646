//! The client's parts, each on its own: exit codes and messages, Markdown and field
//! names, the key in `.env`, JSON as the gateway prints it, folder names.

use std::path::PathBuf;

use secrecy::ExposeSecret;
use superstar_cli::{
    album::slug,
    config::key_in,
    failure::{Failure, Kind},
    json::to_json,
    reads::{album_text, camel_case, snake_case},
};
use superstar_proto::v1::{Album, Song};
use tonic::{Code, Status, metadata::MetadataValue};

#[test]
fn statuses_map_to_their_exit_codes() {
    for (code, kind) in [
        (Code::Unauthenticated, Kind::Auth),
        (Code::NotFound, Kind::NotFound),
        (Code::Unavailable, Kind::Unavailable),
        (Code::DeadlineExceeded, Kind::Unavailable),
        (Code::ResourceExhausted, Kind::RateLimited),
        (Code::InvalidArgument, Kind::Usage),
        (Code::Internal, Kind::Other),
    ] {
        let failure = Failure::from_status("get", &Status::new(code, "x"), "ours");
        assert_eq!(failure.kind, kind, "{code:?}");
        assert!(failure.message.ends_with("(request id ours)"));
        assert!(!failure.message.contains('\n'));
    }
}

#[test]
fn a_services_retry_info_says_when_to_retry() {
    let status = superstar_proto::errors::retry_later(
        "MODEL_BUDGET_EXHAUSTED",
        "over budget",
        std::time::Duration::from_millis(2_340),
    );
    let failure = Failure::from_status("album", &status, "ours");
    assert_eq!(
        failure.message,
        "album: over budget; retry in 2.3 s (request id ours)"
    );
}

#[test]
fn a_rate_limit_says_when_to_retry_and_the_gateways_request_id_wins() {
    let mut status = Status::resource_exhausted(r#"{"code":8,"message":"rate limited"}"#);
    status
        .metadata_mut()
        .insert("x-ratelimit-reset", MetadataValue::from_static("3"));
    status
        .metadata_mut()
        .insert("x-request-id", MetadataValue::from_static("theirs"));
    let failure = Failure::from_status("album", &status, "ours");
    assert_eq!(
        failure.message,
        "album: rate limited; retry in 3 s (request id theirs)"
    );
}

#[test]
fn field_names_convert_both_ways() {
    assert_eq!(snake_case("albumId"), "album_id");
    assert_eq!(snake_case("title"), "title");
    assert_eq!(camel_case("create_time"), "createTime");
}

#[test]
fn an_albums_markdown_has_its_tracks_and_headings() {
    let album = Album {
        title: "Night Drive".into(),
        genre: "synthwave".into(),
        theme: "roads".into(),
        songs: vec![Song {
            title: "Chrome".into(),
            lyrics: "[Verse 1]\nneon <b>lights</b>\n\n[Chorus]\ndrive".into(),
            ..Song::default()
        }],
        ..Album::default()
    };
    let text = album_text(&album);
    assert!(text.starts_with("# Night Drive\n\n*synthwave* — roads\n"));
    assert!(text.contains("## 1. Chrome\n\n### Verse 1\n\nneon <b>lights</b>  \n"));
    assert!(text.contains("### Chorus\n\ndrive  \n"));
}

#[test]
fn the_first_clients_key_is_read_from_dot_env() {
    let folder = tempfile_dir();
    let path = folder.join(".env");
    std::fs::write(
        &path,
        "OTHER=1\nSUPERSTAR_API_KEYS=web:first-key,cli:second-key\n",
    )
    .unwrap();
    assert_eq!(key_in(&path).unwrap().expose_secret(), "first-key");
    std::fs::write(&path, "OTHER=1\n").unwrap();
    assert!(key_in(&path).is_none());
    std::fs::remove_dir_all(folder).unwrap();
}

fn tempfile_dir() -> PathBuf {
    let folder = std::env::temp_dir().join(format!("superstar-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir(&folder).unwrap();
    folder
}

#[test]
fn songs_print_as_the_gateway_prints_them() {
    let song = Song {
        id: "s1".into(),
        title: "Night Drive".into(),
        album_id: Some(String::new()),
        ..Song::default()
    };
    let json = to_json(&song, "superstar.v1.Song");
    assert_eq!(json["title"], "Night Drive");
    assert_eq!(json["albumId"], "", "camelCase, and present");
    assert_eq!(json["lyrics"], "", "every field, defaults too");
}

#[test]
fn titles_become_folder_names() {
    assert_eq!(slug("Night Drive: Part II"), "night-drive-part-ii");
    assert_eq!(slug("../.."), "album");
    assert_eq!(slug("Łódź Nights"), "łódź-nights");
}

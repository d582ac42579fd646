//! The request fields the song producer reads, and the lyricists' text format: what
//! each accepts, and the field each refusal names.

use prost_types::FieldMask;
use song_producer::domain::{Genre, PageSize, ReadMask, Theme, WrittenSong};
use superstar_proto::v1::Song;

#[test]
fn read_masks_accept_proto_and_json_names() {
    let mask = |paths: &[&str]| {
        ReadMask::parse(Some(FieldMask {
            paths: paths.iter().map(|p| p.to_string()).collect(),
        }))
    };
    let song = Song {
        id: "1".into(),
        title: "t".into(),
        album_id: Some("a".into()),
        ..Song::default()
    };
    let masked = mask(&["title", "albumId"]).unwrap().apply(song.clone());
    assert_eq!(
        (masked.id.as_str(), masked.title.as_str(), masked.album_id()),
        ("", "t", "a")
    );
    assert_eq!(ReadMask::parse(None).unwrap().apply(song.clone()), song);
    let unmasked_field = mask(&["title"]).unwrap().apply(song.clone()).album_id;
    assert_eq!(unmasked_field, None, "masked out, not empty");
    let error = mask(&["title", "tempo"]).unwrap_err();
    assert_eq!(error.field, "read_mask");
    assert!(error.reason.contains("tempo"));
}

#[test]
fn text_fields_name_themselves() {
    assert_eq!(Genre::parse("").unwrap_err().field, "genre");
    assert_eq!(Genre::parse(&"g".repeat(65)).unwrap_err().field, "genre");
    assert_eq!(Theme::parse(" ").unwrap_err().field, "theme");
    assert_eq!(Theme::parse(&"t".repeat(501)).unwrap_err().field, "theme");
}

#[test]
fn genre_keys_ignore_case_and_spacing() {
    assert_eq!(
        Genre::parse(" Heavy   Metal ").unwrap().key(),
        "heavy metal"
    );
}

#[test]
fn written_songs_parse_strictly() {
    let song = WrittenSong::parse("Title: \"Neon Nights\"\n\n[Verse 1]\nla la\n").unwrap();
    assert_eq!(song.title, "Neon Nights");
    assert_eq!(song.lyrics, "[Verse 1]\nla la");
    assert_eq!(WrittenSong::parse(&song.to_text()).unwrap(), song);
    assert!(WrittenSong::parse("Neon Nights\n[Verse 1]\nla").is_err());
    assert!(WrittenSong::parse("Title: Neon Nights\nla la la").is_err());
    assert!(WrittenSong::parse("Title:   \n[Verse 1]\nla").is_err());
    assert!(WrittenSong::parse("Title: Fire\n[Verse 1]\n<lines>").is_err());
    assert!(WrittenSong::parse("Title: <the song's title>\n[Verse 1]\nla").is_err());
}

#[test]
fn page_sizes_default_to_twenty() {
    assert_eq!(PageSize::parse(0).unwrap().get(), 20);
    assert_eq!(PageSize::parse(100).unwrap().get(), 100);
    assert_eq!(PageSize::parse(101).unwrap_err().field, "page_size");
    assert_eq!(PageSize::parse(-1).unwrap_err().field, "page_size");
}

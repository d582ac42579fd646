//! Album plans: the tracks, titles and cover descriptions an album's request makes.

use song_producer::domain::{Genre, Theme, album_plan::*};

#[test]
fn albums_of_mixed_ideas_are_various() {
    let idea =
        |genre: &str, theme: &str| (Genre::parse(genre).unwrap(), Theme::parse(theme).unwrap());
    let same = AlbumPlan::from_ideas(vec![idea("Jazz", "rain"), idea("jazz", "rain")]).unwrap();
    assert_eq!(
        (same.genre().as_str(), same.theme().as_str()),
        ("Jazz", "rain")
    );
    assert_eq!(
        same.tracks().iter().map(|t| t.track).collect::<Vec<_>>(),
        [1, 2]
    );
    let mixed = AlbumPlan::from_ideas(vec![idea("jazz", "rain"), idea("metal", "fire")]).unwrap();
    assert_eq!(
        (mixed.genre().as_str(), mixed.theme().as_str()),
        ("various", "rain; fire")
    );
    assert_eq!(AlbumPlan::from_ideas(vec![]).unwrap_err().field, "ideas");
    assert_eq!(
        AlbumPlan::from_ideas(vec![idea("a", "b"); 11])
            .unwrap_err()
            .field,
        "ideas"
    );
}

#[test]
fn songs_count_defaults_to_one_and_stops_at_ten() {
    assert_eq!(SongsCount::parse(0).unwrap().get(), 1);
    assert_eq!(SongsCount::parse(10).unwrap().get(), 10);
    for bad in [-1, 11, i32::MAX] {
        let error = SongsCount::parse(bad).unwrap_err();
        assert_eq!(error.field, "songs_count");
        assert!(error.reason.contains(&bad.to_string()));
    }
}

#[test]
fn cover_descriptions_name_themselves() {
    assert_eq!(
        CoverDescription::parse(&"d".repeat(1001))
            .unwrap_err()
            .field,
        "cover_description"
    );
}

#[test]
fn an_empty_cover_description_is_left_to_us() {
    assert_eq!(CoverDescription::parse("  ").unwrap().as_deref(), None);
    assert_eq!(
        CoverDescription::parse(" neon ").unwrap().as_deref(),
        Some("neon")
    );
}

//! A cover order's fields: what is required, and the bounds of each.

use cover_designer::domain::*;
use superstar_proto::v1::DesignCoverRequest;

fn request(description: &str, title: &str, genre: &str) -> DesignCoverRequest {
    DesignCoverRequest {
        description: description.into(),
        title: title.into(),
        genre: genre.into(),
        ..Default::default()
    }
}

#[test]
fn a_description_is_required_and_bounded() {
    assert_eq!(
        CoverBrief::parse(request("", "", "")).unwrap_err().field,
        "description"
    );
    let long = "x".repeat(1001);
    assert_eq!(
        CoverBrief::parse(request(&long, "", "")).unwrap_err().field,
        "description"
    );
    assert!(CoverBrief::parse(request(&"x".repeat(1000), "", "")).is_ok());
}

#[test]
fn title_and_genre_are_optional_but_bounded() {
    let brief = CoverBrief::parse(request(" a neon skyline ", "", "")).unwrap();
    assert_eq!(
        (brief.description(), brief.title(), brief.genre()),
        ("a neon skyline", "", "")
    );
    assert_eq!(
        CoverBrief::parse(request("d", &"t".repeat(201), ""))
            .unwrap_err()
            .field,
        "title"
    );
    assert_eq!(
        CoverBrief::parse(request("d", "", &"g".repeat(65)))
            .unwrap_err()
            .field,
        "genre"
    );
}

//! The offline painter: a cover from a description, the same every time.

use superstar_proto::v1::DesignCoverRequest;

use cover_designer::{domain::CoverBrief, painter::*};
use image::RgbImage;

fn brief(description: &str, genre: &str) -> CoverBrief {
    CoverBrief::parse(DesignCoverRequest {
        description: description.into(),
        title: String::new(),
        genre: genre.into(),
        ..Default::default()
    })
    .unwrap()
}

fn decode(painting: &Painting) -> RgbImage {
    image::load_from_memory_with_format(&painting.png, image::ImageFormat::Png)
        .expect("the painter writes a valid PNG")
        .to_rgb8()
}

#[test]
fn covers_are_512_square_pngs() {
    let painting = OfflinePainter::default()
        .paint_now(&brief("a dragon over a city", "heavy metal"))
        .unwrap();
    assert_eq!((painting.width, painting.height), (512, 512));
    assert!(painting.png.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(decode(&painting).dimensions(), (512, 512));
}

#[test]
fn the_same_brief_paints_the_same_cover() {
    let painter = OfflinePainter::default();
    let a = painter
        .paint_now(&brief("gold chains at dawn", "gangsta rap"))
        .unwrap();
    let b = painter
        .paint_now(&brief("gold chains at dawn", "gangsta rap"))
        .unwrap();
    assert_eq!(a.png, b.png);
}

#[test]
fn different_briefs_paint_different_covers() {
    let painter = OfflinePainter::default();
    let a = painter
        .paint_now(&brief("gold chains at dawn", "gangsta rap"))
        .unwrap();
    let b = painter
        .paint_now(&brief("gold chains at dusk", "gangsta rap"))
        .unwrap();
    assert_ne!(a.png, b.png);
}

#[test]
fn the_genre_sets_the_colours() {
    let painter = OfflinePainter::default();
    let average_red_minus_blue = |genre: &str| {
        let image = decode(
            &painter
                .paint_now(&brief("the same description", genre))
                .unwrap(),
        );
        let pixels = image.pixels().count() as f64;
        image
            .pixels()
            .map(|p| p[0] as f64 - p[2] as f64)
            .sum::<f64>()
            / pixels
    };
    // Metal is drawn in reds over black; disco polo in pinks and cyans over purple.
    assert!(average_red_minus_blue("heavy metal") > 10.0);
    assert!(average_red_minus_blue("polish disco polo") < average_red_minus_blue("heavy metal"));
}

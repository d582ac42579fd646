//! The OpenAI painter's parts: the prompt, the request for each kind of image model,
//! and the PNG it accepts.

use std::io::Cursor;

use cover_designer::{
    domain::CoverBrief,
    painter::{OpenAiPainter, png_size, prompt},
};
use superstar_openai::{OpenAiSettings, ProviderError};
use superstar_proto::v1::DesignCoverRequest;

fn brief(description: &str, title: &str, genre: &str) -> CoverBrief {
    CoverBrief::parse(DesignCoverRequest {
        description: description.into(),
        title: title.into(),
        genre: genre.into(),
        ..Default::default()
    })
    .unwrap()
}

#[test]
fn the_prompt_frames_the_description_as_album_art() {
    assert_eq!(
        prompt(&brief("a neon dragon over Warsaw.", "Smok", "disco polo")),
        "Album cover art for \"Smok\", a disco polo record: a neon dragon over Warsaw. \
         A square composition, bold and striking at thumbnail size; no lettering, no logos."
    );
    assert!(prompt(&brief("rain", "", "")).starts_with("Album cover art: rain."));
}

#[test]
fn gpt_image_models_are_not_asked_for_a_response_format() {
    let painter =
        |model: &str| OpenAiPainter::new(OpenAiSettings::new("k", "http://127.0.0.1:9", model));
    let gpt =
        serde_json::to_value(painter("gpt-image-1-mini").request(&brief("rain", "", ""))).unwrap();
    assert_eq!(gpt["model"], "gpt-image-1-mini");
    assert!(gpt.get("response_format").is_none());
    assert_eq!(gpt["output_format"], "png");
    let dalle = serde_json::to_value(painter("dall-e-3").request(&brief("rain", "", ""))).unwrap();
    assert_eq!(dalle["response_format"], "b64_json");
    assert!(dalle.get("output_format").is_none());
}

#[test]
fn only_a_png_is_accepted_and_its_own_size_is_kept() {
    let mut png = Vec::new();
    image::RgbImage::new(3, 2)
        .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();
    assert_eq!(png_size(&png).unwrap(), (3, 2));
    assert!(matches!(
        png_size(b"GIF89a...."),
        Err(ProviderError::Malformed(_))
    ));
    assert!(matches!(
        png_size(&png[..20]),
        Err(ProviderError::Malformed(_))
    ));
}

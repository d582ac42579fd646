//! DesignCover, GetCover and GetCoverImage.

use superstar_proto::v1::{DesignCoverRequest, GetCoverImageRequest, GetCoverRequest};
use superstar_system_tests::TestSystem;

#[tokio::test]
async fn a_cover_is_painted_stored_and_served_as_png() {
    let mut system = TestSystem::start().await;
    let cover = system
        .covers
        .design_cover(DesignCoverRequest {
            description: "a neon dragon over Warsaw".into(),
            title: "Smok".into(),
            genre: "polish disco polo".into(),
            ..Default::default()
        })
        .await
        .expect("a cover")
        .into_inner();
    assert_eq!(
        (cover.width, cover.height, cover.mime_type.as_str()),
        (512, 512, "image/png")
    );
    assert_eq!(cover.model, "offline");
    assert!(cover.create_time.is_some());

    let fetched = system
        .covers
        .get_cover(GetCoverRequest {
            id: cover.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(fetched, cover);

    let image = system
        .covers
        .get_cover_image(GetCoverImageRequest { id: cover.id })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(image.content_type, "image/png");
    let decoded = image::load_from_memory_with_format(&image.data, image::ImageFormat::Png)
        .expect("a real PNG");
    assert_eq!((decoded.width(), decoded.height()), (512, 512));
}

//! The OpenAI painter: covers from the images API, kept as PNG bytes (not as a URL that
//! expires).
//!
//! GPT image models always answer with base64 PNG; other models (DALL·E, or the image
//! models of OpenAI-compatible servers) are asked for `b64_json`. Whatever comes back
//! is decoded and checked to be a PNG, and its real size is read from the image itself.

use std::{io::Cursor, sync::Arc};

use async_openai::{
    Client,
    config::OpenAIConfig,
    types::images::{
        CreateImageRequest, Image, ImageModel, ImageOutputFormat, ImageResponseFormat, ImageSize,
    },
};
use base64::Engine;
use superstar_openai::{OpenAiSettings, ProviderError};
use superstar_server::serve::usage::Meter;
use tokio::time::Instant;

use super::{PaintError, Painter, Painting};
use crate::domain::CoverBrief;

/// Paints covers with an image model. Cheap to clone.
#[derive(Clone)]
pub struct OpenAiPainter {
    inner: Arc<Inner>,
}

struct Inner {
    client: Client<OpenAIConfig>,
    settings: OpenAiSettings,
}

impl OpenAiPainter {
    /// A painter asking `settings.model` at `settings.base_url`.
    pub fn new(settings: OpenAiSettings) -> Self {
        Self {
            inner: Arc::new(Inner {
                client: settings.client(),
                settings,
            }),
        }
    }

    // `response_format` is deprecated with the retired DALL·E models, but
    // OpenAI-compatible servers still need it to answer in base64.
    #[allow(deprecated)]
    /// The images request a cover of `brief` is asked with.
    pub fn request(&self, brief: &CoverBrief) -> CreateImageRequest {
        let model = self.inner.settings.model.clone();
        let gpt_image = model.starts_with("gpt-image") || model.starts_with("chatgpt-image");
        CreateImageRequest {
            prompt: prompt(brief),
            model: ImageModel::Other(model),
            n: Some(1),
            size: Some(ImageSize::S1024x1024),
            // GPT image models answer in base64 always and reject `response_format`.
            response_format: (!gpt_image).then_some(ImageResponseFormat::B64Json),
            output_format: gpt_image.then_some(ImageOutputFormat::Png),
            ..Default::default()
        }
    }
}

#[tonic::async_trait]
impl Painter for OpenAiPainter {
    fn model(&self) -> &str {
        &self.inner.settings.model
    }

    async fn paint(
        &self,
        brief: &CoverBrief,
        deadline: Option<Instant>,
        meter: &Meter,
    ) -> Result<Painting, PaintError> {
        let request = self.request(brief);
        let inner = &self.inner;
        let deadline = inner.settings.deadline(deadline);
        let reply = inner
            .settings
            .retry
            .run(deadline, || async {
                let mut call = meter.called();
                let reply = inner.client.images().generate(request.clone()).await?;
                call.answered();
                if let Some(usage) = &reply.usage {
                    call.tokens(usage.input_tokens.into(), usage.output_tokens.into());
                }
                Ok(reply)
            })
            .await?;
        if let Some(usage) = &reply.usage {
            meter.tokens(usage.input_tokens.into(), usage.output_tokens.into());
        }
        meter.painted(reply.data.len() as u64);
        let image = reply
            .data
            .first()
            .ok_or_else(|| ProviderError::Malformed("the reply holds no image".into()))?;
        let (data, revised_prompt) = match image.as_ref() {
            Image::B64Json {
                b64_json,
                revised_prompt,
            } => (b64_json, revised_prompt.clone()),
            Image::Url { .. } => {
                return Err(ProviderError::Malformed(
                    "the reply holds a URL, not base64 image data".into(),
                )
                .into());
            }
        };
        let png = base64::engine::general_purpose::STANDARD
            .decode(data.as_bytes())
            .map_err(|error| {
                ProviderError::Malformed(format!("the image is not base64: {error}"))
            })?;
        let (width, height) = png_size(&png)?;
        Ok(Painting {
            png,
            width,
            height,
            revised_prompt,
        })
    }
}

/// The image prompt: the cover's description, framed as album art, with the album's
/// title and genre when the request gave them.
pub fn prompt(brief: &CoverBrief) -> String {
    let mut prompt = String::from("Album cover art");
    if !brief.title().is_empty() {
        prompt.push_str(&format!(" for \"{}\"", brief.title()));
    }
    if !brief.genre().is_empty() {
        prompt.push_str(&format!(", a {} record", brief.genre()));
    }
    prompt.push_str(&format!(
        ": {}. A square composition, bold and striking at thumbnail size; no lettering, no logos.",
        brief.description().trim_end_matches('.')
    ));
    prompt
}

/// The size of a PNG, read from the image; anything but a PNG is unusable.
pub fn png_size(bytes: &[u8]) -> Result<(u32, u32), ProviderError> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|error| ProviderError::Malformed(error.to_string()))?;
    if reader.format() != Some(image::ImageFormat::Png) {
        return Err(ProviderError::Malformed("the image is not a PNG".into()));
    }
    reader
        .into_dimensions()
        .map_err(|error| ProviderError::Malformed(format!("the PNG is unreadable: {error}")))
}

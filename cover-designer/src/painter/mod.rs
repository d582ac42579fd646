//! Painters turn a [`CoverBrief`] into a PNG.
//!
//! There are two: OpenAI's images API, and the [`OfflinePainter`] that works with no
//! key and no network. The service holds a `dyn Painter` and never knows which.

mod offline;
mod openai;

pub use offline::OfflinePainter;
pub use openai::{OpenAiPainter, png_size, prompt};
use superstar_openai::ProviderError;
use superstar_server::serve::usage::Meter;
use tokio::time::Instant;

use crate::domain::CoverBrief;

/// A finished image and what made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Painting {
    /// The PNG file.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// The prompt the provider actually used, when it rewrote ours.
    pub revised_prompt: Option<String>,
}

/// Why a painting could not be made.
#[derive(Debug, thiserror::Error)]
pub enum PaintError {
    /// The painter failed in a way the client cannot fix.
    #[error("the painter failed: {0}")]
    Failed(String),
    /// The model provider failed, or the deadline passed.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

/// Paints covers. Implementations must be cheap to share between requests.
#[tonic::async_trait]
pub trait Painter: Send + Sync + 'static {
    /// The model name stored with each cover (`offline` for the offline painter).
    fn model(&self) -> &str;

    /// Paints one cover. `deadline` is when the caller stops waiting, if it said;
    /// every request sent to a model, and the image painted, is counted in `meter`.
    async fn paint(
        &self,
        brief: &CoverBrief,
        deadline: Option<Instant>,
        meter: &Meter,
    ) -> Result<Painting, PaintError>;
}

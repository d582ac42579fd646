//! The offline painter: a deterministic, genre-coloured abstract cover.
//!
//! The genre picks the palette (heavy metal in iron and blood, rap in gold on black,
//! disco polo in neon, anything else in colours drawn from its name); the description
//! and title seed the forms: discs, rings, diagonal bands, a striped synthwave sun and a
//! scattering of stars, one per word. The same brief always gives the same PNG.
//!
//! Drawing touches each form's bounding box only and the PNG is written with fast
//! compression, so a 512×512 cover takes a few milliseconds (see `cargo bench`).

use image::{
    ExtendedColorType, ImageEncoder, Rgb, RgbImage,
    codecs::png::{CompressionType, FilterType, PngEncoder},
};
use superstar_server::offline::SplitMix64;

use super::{PaintError, Painter, Painting};
use crate::domain::CoverBrief;

/// Paints covers without a model. See the module documentation.
#[derive(Debug, Clone)]
pub struct OfflinePainter {
    size: u32,
}

impl Default for OfflinePainter {
    /// 512×512, the smallest cover the contract allows.
    fn default() -> Self {
        Self { size: 512 }
    }
}

#[tonic::async_trait]
impl Painter for OfflinePainter {
    fn model(&self) -> &str {
        "offline"
    }

    async fn paint(
        &self,
        brief: &CoverBrief,
        _deadline: Option<tokio::time::Instant>,
        meter: &superstar_server::serve::usage::Meter,
    ) -> Result<Painting, PaintError> {
        let painter = self.clone();
        let brief = brief.clone();
        meter.called().answered();
        // A few milliseconds of CPU: keep it off the async workers.
        let painting = tokio::task::spawn_blocking(move || painter.paint_now(&brief))
            .await
            .map_err(|error| PaintError::Failed(error.to_string()))??;
        meter.painted(1);
        Ok(painting)
    }
}

impl OfflinePainter {
    /// Paints synchronously; [`Painter::paint`] runs this on the blocking pool.
    pub fn paint_now(&self, brief: &CoverBrief) -> Result<Painting, PaintError> {
        let image = self.render(brief);
        let mut png = Vec::with_capacity(64 * 1024);
        PngEncoder::new_with_quality(&mut png, CompressionType::Fast, FilterType::Sub)
            .write_image(
                image.as_raw(),
                self.size,
                self.size,
                ExtendedColorType::Rgb8,
            )
            .map_err(|error| PaintError::Failed(error.to_string()))?;
        Ok(Painting {
            png,
            width: self.size,
            height: self.size,
            revised_prompt: None,
        })
    }

    fn render(&self, brief: &CoverBrief) -> RgbImage {
        let mut rng = SplitMix64::from_parts(&[brief.genre(), brief.title(), brief.description()]);
        let palette = Palette::for_genre(brief.genre());
        let size = self.size as f32;
        let mut canvas = Canvas::new(self.size);

        canvas.vertical_gradient(palette.top, palette.bottom);
        if palette.sun {
            canvas.synthwave_sun(
                size * 0.5,
                size * 0.55,
                size * 0.28,
                palette.accents[0],
                palette.accents[1],
            );
        }
        let forms = 3 + rng.below(4);
        for _ in 0..forms {
            let colour = *rng.pick(&palette.accents);
            let (x, y) = (rng.unit() * size, rng.unit() * size);
            let radius = size * (0.06 + rng.unit() * 0.22);
            match rng.below(3) {
                0 => canvas.disc(x, y, radius, colour, 0.55 + rng.unit() * 0.35),
                1 => canvas.ring(x, y, radius, radius * 0.18, colour, 0.8),
                _ => canvas.band(
                    rng.unit() * size,
                    size * (0.03 + rng.unit() * 0.08),
                    colour,
                    0.45,
                ),
            }
        }
        let words = brief.description().split_whitespace().count().clamp(1, 120);
        for _ in 0..words {
            let (x, y) = (rng.unit() * size, rng.unit() * size * 0.6);
            canvas.disc(x, y, 1.0 + rng.unit() * 2.5, palette.star, 0.9);
        }
        canvas.image
    }
}

/// Colours for one genre.
struct Palette {
    top: Rgb<u8>,
    bottom: Rgb<u8>,
    accents: [Rgb<u8>; 3],
    star: Rgb<u8>,
    sun: bool,
}

impl Palette {
    fn for_genre(genre: &str) -> Self {
        let genre = genre.to_lowercase();
        if genre.contains("metal") || genre.contains("rock") || genre.contains("punk") {
            Self {
                top: Rgb([12, 12, 14]),
                bottom: Rgb([70, 8, 10]),
                accents: [Rgb([190, 20, 24]), Rgb([120, 120, 128]), Rgb([230, 90, 20])],
                star: Rgb([220, 220, 220]),
                sun: false,
            }
        } else if genre.contains("rap") || genre.contains("hip") || genre.contains("trap") {
            Self {
                top: Rgb([8, 8, 10]),
                bottom: Rgb([40, 18, 60]),
                accents: [
                    Rgb([212, 175, 55]),
                    Rgb([150, 60, 200]),
                    Rgb([240, 240, 240]),
                ],
                star: Rgb([255, 215, 90]),
                sun: false,
            }
        } else if genre.contains("disco") || genre.contains("polo") {
            Self {
                top: Rgb([30, 0, 60]),
                bottom: Rgb([255, 60, 170]),
                accents: [
                    Rgb([255, 230, 60]),
                    Rgb([0, 230, 255]),
                    Rgb([255, 120, 220]),
                ],
                star: Rgb([255, 255, 255]),
                sun: true,
            }
        } else {
            // Any other genre gets a hue of its own, the same every time.
            let mut rng = SplitMix64::from_parts(&[&genre]);
            let hue = rng.unit();
            Self {
                top: hsv(hue, 0.55, 0.25),
                bottom: hsv((hue + 0.08) % 1.0, 0.65, 0.75),
                accents: [
                    hsv((hue + 0.5) % 1.0, 0.7, 0.95),
                    hsv((hue + 0.33) % 1.0, 0.6, 0.9),
                    hsv((hue + 0.66) % 1.0, 0.5, 1.0),
                ],
                star: Rgb([250, 250, 240]),
                sun: rng.below(2) == 0,
            }
        }
    }
}

/// An RGB image with the few drawing operations the covers need.
struct Canvas {
    image: RgbImage,
    size: i32,
}

impl Canvas {
    fn new(size: u32) -> Self {
        Self {
            image: RgbImage::new(size, size),
            size: size as i32,
        }
    }

    fn vertical_gradient(&mut self, top: Rgb<u8>, bottom: Rgb<u8>) {
        let height = self.size.max(2) as f32 - 1.0;
        for (y, row) in self.image.rows_mut().enumerate() {
            let colour = mix(top, bottom, y as f32 / height);
            for pixel in row {
                *pixel = colour;
            }
        }
    }

    /// Blends `colour` over the pixels inside the box for which `coverage` is positive.
    fn fill(
        &mut self,
        (x0, y0, x1, y1): (f32, f32, f32, f32),
        colour: Rgb<u8>,
        opacity: f32,
        coverage: impl Fn(f32, f32) -> f32,
    ) {
        let clamp = |value: f32| (value as i32).clamp(0, self.size);
        for y in clamp(y0)..clamp(y1 + 1.0) {
            for x in clamp(x0)..clamp(x1 + 1.0) {
                let alpha = coverage(x as f32 + 0.5, y as f32 + 0.5).clamp(0.0, 1.0) * opacity;
                if alpha > 0.0 {
                    let pixel = self.image.get_pixel_mut(x as u32, y as u32);
                    *pixel = mix(*pixel, colour, alpha);
                }
            }
        }
    }

    fn disc(&mut self, cx: f32, cy: f32, radius: f32, colour: Rgb<u8>, opacity: f32) {
        let bounds = (cx - radius, cy - radius, cx + radius, cy + radius);
        // One pixel of soft edge keeps the circle from looking jagged.
        self.fill(bounds, colour, opacity, |x, y| {
            radius - ((x - cx).hypot(y - cy)) + 0.5
        });
    }

    fn ring(&mut self, cx: f32, cy: f32, radius: f32, width: f32, colour: Rgb<u8>, opacity: f32) {
        let bounds = (cx - radius, cy - radius, cx + radius, cy + radius);
        self.fill(bounds, colour, opacity, |x, y| {
            width / 2.0 - ((x - cx).hypot(y - cy) - (radius - width / 2.0)).abs() + 0.5
        });
    }

    /// A band at 45°, crossing the image where x + y = `offset` * 2.
    fn band(&mut self, offset: f32, width: f32, colour: Rgb<u8>, opacity: f32) {
        let size = self.size as f32;
        self.fill((0.0, 0.0, size, size), colour, opacity, |x, y| {
            width / 2.0 - ((x + y) / 2.0 - offset).abs()
        });
    }

    /// A sun fading from `top` to `bottom`, cut by widening horizontal gaps below its middle.
    fn synthwave_sun(&mut self, cx: f32, cy: f32, radius: f32, top: Rgb<u8>, bottom: Rgb<u8>) {
        let clamp = |value: f32| (value as i32).clamp(0, self.size);
        for y in clamp(cy - radius)..clamp(cy + radius) {
            let t = (y as f32 - (cy - radius)) / (2.0 * radius);
            let below = (y as f32 - cy) / radius;
            if below > 0.0 && (y as f32 - cy) % (radius / 5.0) < below * radius / 8.0 {
                continue;
            }
            let colour = mix(top, bottom, t);
            let half = (radius * radius - (y as f32 - cy).powi(2)).max(0.0).sqrt();
            for x in clamp(cx - half)..clamp(cx + half) {
                self.image.put_pixel(x as u32, y as u32, colour);
            }
        }
    }
}

fn mix(a: Rgb<u8>, b: Rgb<u8>, t: f32) -> Rgb<u8> {
    let channel = |i: usize| (a[i] as f32 + (b[i] as f32 - a[i] as f32) * t).round() as u8;
    Rgb([channel(0), channel(1), channel(2)])
}

fn hsv(hue: f32, saturation: f32, value: f32) -> Rgb<u8> {
    let sector = (hue * 6.0).floor();
    let f = hue * 6.0 - sector;
    let (p, q, t) = (
        value * (1.0 - saturation),
        value * (1.0 - f * saturation),
        value * (1.0 - (1.0 - f) * saturation),
    );
    let (r, g, b) = match sector as i32 % 6 {
        0 => (value, t, p),
        1 => (q, value, p),
        2 => (p, value, t),
        3 => (p, q, value),
        4 => (t, p, value),
        _ => (value, p, q),
    };
    Rgb([(r * 255.0) as u8, (g * 255.0) as u8, (b * 255.0) as u8])
}

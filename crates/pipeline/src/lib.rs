//! # imgd-pipeline: source bytes → transformed, encoded image
//!
//! [`process`] is the whole recipe, in order. Each step lives in its own file under `steps/`
//! with its tests beside it. Geometry is planned from the header before any pixel is decoded
//! (`plan`), so decoders may shrink on load.
//!
//! Invariants: synchronous and pure (no I/O, no async, no HTTP types); the caller runs it on a
//! worker thread. Limits are checked from the header before decoding.

mod decode;
mod encode;
mod error;
mod format;
mod frames;
mod jpeg_eighth;
mod placeholder;
mod plan;
mod png_encode;
mod shrink;
mod source;
pub mod steps;
mod webp_alpha;
mod webp_decode;
mod webp_encode;

use image::DynamicImage;
use imgd_url::{Color, OutputFormat, TransformSpec};
use steps::resize::AlphaDepth;

pub use encode::DEFAULT_QUALITY;
pub use error::PipelineError;
pub use format::{choose as choose_format, Negotiation};
pub use placeholder::{placeholder, side as placeholder_side};
pub use plan::{plan, Canvas, Plan, Region};
pub use source::{probe, SourceFormat, SourceInfo};

/// Resource limits, all with safe defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest source, in pixels, read from the header before decoding.
    pub max_source_pixels: u64,
    /// Most bytes a decoder may allocate.
    pub max_decode_bytes: u64,
    /// Largest output side, in pixels.
    pub max_output_side: u32,
    /// Most frames an animated source may have (counted from its structure).
    pub max_frames: u32,
    /// Most pixels all frames of an animated source may add up to.
    pub max_animation_pixels: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_source_pixels: 100_000_000,
            max_decode_bytes: 1 << 30,
            max_output_side: 10_000,
            max_frames: 500,
            max_animation_pixels: 500_000_000,
        }
    }
}

/// An encoded result.
#[derive(Debug, Clone)]
pub struct Output {
    pub bytes: Vec<u8>,
    pub format: OutputFormat,
    pub width: u32,
    pub height: u32,
    pub source: SourceInfo,
}

/// Runs the whole pipeline: probe → plan → decode (shrunk on load when possible) →
/// crop+resize → pad → flip → rotate → flatten → encode.
pub fn process(
    bytes: &[u8],
    spec: &TransformSpec,
    negotiation: Negotiation,
    limits: &Limits,
) -> Result<Output, PipelineError> {
    // Header only: what the source is, how large, which way up.
    let source = probe(bytes)?;
    let frames = frames::count(bytes, source.format);
    if frames.frames > limits.max_frames {
        return Err(PipelineError::TooManyFrames {
            frames: frames.frames,
            limit: limits.max_frames,
        });
    }
    if frames.pixels > limits.max_animation_pixels {
        return Err(PipelineError::AnimationTooLarge {
            pixels: frames.pixels,
            limit: limits.max_animation_pixels,
        });
    }
    let format = choose_format(spec.format, source.format, negotiation);
    let (w, h) = source.oriented_size();
    // Geometry before pixels, so limits apply before decoding.
    let plan = plan(spec, w, h, limits.max_output_side)?;
    // Shrink-on-load: a JPEG (or WebP) is decoded at the smallest 1/2ⁿ scale that still
    // covers the plan.
    let shrink_to = shrink::needed_size(&source, &plan);
    let img = decode::decode(
        bytes,
        &source,
        limits.max_source_pixels,
        limits.max_decode_bytes,
        shrink_to,
    )?;

    // Lossy output with alpha gets smooth colour under low alpha (cheaper to encode there);
    // lossless PNG the 8-bit levels it compresses best (steps/resize_deep.rs says why).
    let depth = match format {
        OutputFormat::Webp => AlphaDepth::Bits16,
        OutputFormat::Jpeg | OutputFormat::Png | OutputFormat::Gif => AlphaDepth::Bits8,
    };
    let img = steps::resize::resize(img, (w, h), plan.region, plan.scaled, depth)?;
    let img = match plan.canvas {
        Some(canvas) => {
            let bg = background(spec, &img, format);
            steps::canvas::extend(img, canvas, bg)
        }
        None => img,
    };
    let img = match spec.flip {
        Some(f) => steps::flip::flip(img, f),
        None => img,
    };
    let img = match spec.rotate {
        Some(r) => {
            let bg = background(spec, &img, format);
            steps::rotate::rotate(img, r, bg)
        }
        None => img,
    };
    let img = if format.has_alpha() {
        img
    } else {
        steps::flatten::flatten(img, spec.background.unwrap_or(Color::WHITE))
    };

    let bytes = encode::encode(&img, format, spec.quality)?;
    Ok(Output {
        bytes,
        format,
        width: img.width(),
        height: img.height(),
        source,
    })
}

/// Fill for padding and rotation: `bg_color`, else transparent where both the image and the
/// output format have alpha, else white.
fn background(spec: &TransformSpec, img: &DynamicImage, format: OutputFormat) -> Color {
    match spec.background {
        Some(c) => c,
        None if img.color().has_alpha() && format.has_alpha() => Color::TRANSPARENT,
        None => Color::WHITE,
    }
}

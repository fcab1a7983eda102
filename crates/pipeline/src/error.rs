//! What can go wrong between source bytes and encoded output. Variants name the failure; the
//! HTTP layer decides statuses.

use thiserror::Error;

#[derive(Debug, Clone, Error)]
pub enum PipelineError {
    /// The bytes are not an image in a supported format (JPEG, PNG, GIF, WebP).
    #[error("unsupported or unrecognised image format")]
    UnsupportedFormat,
    /// The header or pixel data is corrupt.
    #[error("the image could not be decoded: {0}")]
    Undecodable(String),
    /// More source pixels than `max_source_pixels`, read from the header before decoding.
    #[error("source image is {width}x{height}, over the limit of {limit} pixels")]
    SourceTooLarge { width: u32, height: u32, limit: u64 },
    /// An animation with more frames than `max_frames`, counted before decoding.
    #[error("source has {frames} frames, over the limit of {limit}")]
    TooManyFrames { frames: u32, limit: u32 },
    /// An animation whose frames add up to more than `max_animation_pixels`.
    #[error("source frames hold {pixels} pixels, over the limit of {limit}")]
    AnimationTooLarge { pixels: u64, limit: u64 },
    /// Decoding would allocate more than the decode memory limit.
    #[error("decoding the source would exceed the memory limit")]
    DecodeMemory,
    /// The requested output exceeds `max_output_side` on a side.
    #[error("requested output {width}x{height} exceeds the limit of {limit} px per side")]
    OutputTooLarge { width: u64, height: u64, limit: u32 },
    /// `tl_px`/`br_px` select no pixels of this image.
    #[error("the positionable crop tl_px/br_px selects no pixels of this {width}x{height} image")]
    EmptyCrop { width: u32, height: u32 },
    /// The encoder failed (should not happen for valid sizes).
    #[error("encoding failed: {0}")]
    Encode(String),
}

impl From<image::ImageError> for PipelineError {
    fn from(e: image::ImageError) -> Self {
        match e {
            image::ImageError::Limits(_) => PipelineError::DecodeMemory,
            image::ImageError::Unsupported(_) => PipelineError::UnsupportedFormat,
            other => PipelineError::Undecodable(other.to_string()),
        }
    }
}

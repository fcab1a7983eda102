//! Reading what a source is from its header alone: format, size, orientation, alpha.
//!
//! Owns: format detection and the header-only probe that planning (and shrink-on-load) rely
//! on. Must not: decode pixel data.

use std::io::Cursor;

use image::metadata::Orientation;
use image::{ImageDecoder, ImageFormat, ImageReader};

use crate::error::PipelineError;

/// Source formats imgd decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceFormat {
    Jpeg,
    Png,
    Gif,
    Webp,
}

impl SourceFormat {
    pub fn detect(bytes: &[u8]) -> Option<SourceFormat> {
        match image::guess_format(bytes).ok()? {
            ImageFormat::Jpeg => Some(SourceFormat::Jpeg),
            ImageFormat::Png => Some(SourceFormat::Png),
            ImageFormat::Gif => Some(SourceFormat::Gif),
            ImageFormat::WebP => Some(SourceFormat::Webp),
            _ => None,
        }
    }

    pub(crate) fn image_format(self) -> ImageFormat {
        match self {
            SourceFormat::Jpeg => ImageFormat::Jpeg,
            SourceFormat::Png => ImageFormat::Png,
            SourceFormat::Gif => ImageFormat::Gif,
            SourceFormat::Webp => ImageFormat::WebP,
        }
    }
}

/// What the header says about a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SourceInfo {
    pub format: SourceFormat,
    /// Size as stored (before EXIF orientation).
    pub stored_width: u32,
    pub stored_height: u32,
    pub orientation: Orientation,
    pub has_alpha: bool,
}

impl SourceInfo {
    /// Size after EXIF orientation is applied: what the viewer sees and what `w`, `h`,
    /// `tl_px` and focal points refer to.
    pub fn oriented_size(&self) -> (u32, u32) {
        match self.orientation {
            Orientation::Rotate90
            | Orientation::Rotate270
            | Orientation::Rotate90FlipH
            | Orientation::Rotate270FlipH => (self.stored_height, self.stored_width),
            Orientation::NoTransforms
            | Orientation::Rotate180
            | Orientation::FlipHorizontal
            | Orientation::FlipVertical => (self.stored_width, self.stored_height),
        }
    }

    pub fn pixels(&self) -> u64 {
        u64::from(self.stored_width) * u64::from(self.stored_height)
    }
}

pub(crate) fn reader(bytes: &[u8], format: SourceFormat) -> ImageReader<Cursor<&[u8]>> {
    let mut r = ImageReader::new(Cursor::new(bytes));
    r.set_format(format.image_format());
    r
}

/// Reads the header of `bytes`.
pub fn probe(bytes: &[u8]) -> Result<SourceInfo, PipelineError> {
    let format = SourceFormat::detect(bytes).ok_or(PipelineError::UnsupportedFormat)?;
    let mut decoder = reader(bytes, format).into_decoder()?;
    let (stored_width, stored_height) = decoder.dimensions();
    if stored_width == 0 || stored_height == 0 {
        return Err(PipelineError::Undecodable("the image has no pixels".into()));
    }
    // A broken EXIF block must not fail the image: it is shown as stored.
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let has_alpha = decoder.color_type().has_alpha();
    Ok(SourceInfo {
        format,
        stored_width,
        stored_height,
        orientation,
        has_alpha,
    })
}

//! Pixels → bytes of the output format. Encoders write no metadata, which is how EXIF, XMP
//! and ICC are stripped (pixels are sRGB by then).

use std::io::Cursor;

use image::codecs::gif::GifEncoder;
use image::DynamicImage;
use imgd_url::OutputFormat;

use crate::error::PipelineError;
use crate::{png_encode, webp_encode};

/// Baseline JPEG through libjpeg-turbo (the mozjpeg fork in its libjpeg-turbo-compatible
/// "fastest" profile: standard quantisation tables, no trellis, not progressive, so the same
/// quality scale as Pillow, sharp and browsers) with 4:2:0 chroma and optimised Huffman
/// tables (3–8% smaller files for ~free). libjpeg reports errors by unwinding; they become an
/// encode error.
fn jpeg(rgb: &[u8], w: u32, h: u32, q: u8) -> Result<Vec<u8>, PipelineError> {
    let run = || -> std::io::Result<Vec<u8>> {
        let mut c = mozjpeg::Compress::new(mozjpeg::ColorSpace::JCS_RGB);
        c.set_fastest_defaults();
        c.set_size(w as usize, h as usize);
        c.set_quality(f32::from(q));
        c.set_optimize_coding(true);
        c.set_chroma_sampling_pixel_sizes((2, 2), (2, 2));
        let mut started = c.start_compress(Vec::new())?;
        started.write_scanlines(rgb)?;
        started.finish()
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(Ok(bytes)) => Ok(bytes),
        Ok(Err(e)) => Err(PipelineError::Encode(e.to_string())),
        Err(_) => Err(PipelineError::Encode("libjpeg failed to encode".into())),
    }
}

/// Quality when the URL gives no `q`.
pub const DEFAULT_QUALITY: u8 = 80;

pub fn encode(
    img: &DynamicImage,
    format: OutputFormat,
    quality: Option<u8>,
) -> Result<Vec<u8>, PipelineError> {
    let q = quality.unwrap_or(DEFAULT_QUALITY);
    let (w, h) = (img.width(), img.height());
    let mut out = Vec::new();
    let err = |e: image::ImageError| PipelineError::Encode(e.to_string());
    match format {
        OutputFormat::Jpeg => {
            let rgb = match img {
                DynamicImage::ImageRgb8(b) => std::borrow::Cow::Borrowed(b),
                other => std::borrow::Cow::Owned(other.to_rgb8()),
            };
            out = jpeg(rgb.as_raw(), w, h, q)?;
        }
        OutputFormat::Png => out = png_encode::encode(img)?,
        OutputFormat::Webp => {
            out = match img {
                DynamicImage::ImageRgba8(b) => webp_encode::encode(b.as_raw(), w, h, true, q)?,
                DynamicImage::ImageRgb8(b) => webp_encode::encode(b.as_raw(), w, h, false, q)?,
                other => webp_encode::encode(other.to_rgba8().as_raw(), w, h, true, q)?,
            };
        }
        OutputFormat::Gif => {
            let rgba = img.to_rgba8();
            let mut enc = GifEncoder::new_with_speed(Cursor::new(&mut out), 10);
            enc.encode(rgba.as_raw(), w, h, image::ExtendedColorType::Rgba8)
                .map_err(err)?;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testimg::*;

    #[test]
    fn every_format_decodes_back() {
        let img = halves(64, 32);
        for f in [
            OutputFormat::Jpeg,
            OutputFormat::Png,
            OutputFormat::Webp,
            OutputFormat::Gif,
        ] {
            let bytes = encode(&img, f, Some(90)).unwrap();
            let back = image::load_from_memory(&bytes).unwrap();
            assert_eq!((back.width(), back.height()), (64, 32), "{f:?}");
            assert!(
                near(px(&back, 48, 16), BLUE),
                "{f:?}: {:?}",
                px(&back, 48, 16)
            );
            assert!(near(px(&back, 4, 4), GREEN), "{f:?}");
        }
    }

    #[test]
    fn quality_changes_jpeg_size() {
        let img = DynamicImage::ImageRgb8(image::RgbImage::from_fn(128, 128, |x, y| {
            image::Rgb([(x * 2) as u8, (y * 2) as u8, ((x ^ y) * 3) as u8])
        }));
        let small = encode(&img, OutputFormat::Jpeg, Some(20)).unwrap();
        let big = encode(&img, OutputFormat::Jpeg, Some(95)).unwrap();
        assert!(small.len() < big.len());
    }
}

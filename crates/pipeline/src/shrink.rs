//! Shrink-on-load: a JPEG whose output needs far fewer pixels than it has is decoded directly
//! at 1/2, 1/4 or 1/8 scale (DCT scaling), so its full-resolution pixels never exist in memory.
//!
//! Owns: when shrinking helps and the scaled decode itself. Must not: crop or resample (the
//! resize step scales the plan's region to whatever size was decoded). Anything the scaled
//! decoder cannot handle (CMYK, 16-bit, a decoder error) returns `None`, and the caller
//! decodes at full size as before: never worse than without it.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, RgbImage};
use jpeg_decoder::{Decoder, PixelFormat};

use crate::plan::Plan;
use crate::source::{SourceFormat, SourceInfo};

/// The smallest decode size (in stored orientation) that still holds every pixel the plan
/// needs, or `None` when a shrink would not halve the image.
pub fn needed_size(info: &SourceInfo, plan: &Plan) -> Option<(u32, u32)> {
    if info.format != SourceFormat::Jpeg {
        return None;
    }
    // The plan scales uniformly, so orientation does not change the factor.
    let s =
        (f64::from(plan.scaled.0) / plan.region.w).max(f64::from(plan.scaled.1) / plan.region.h);
    if s > 0.5 {
        return None;
    }
    Some((
        (f64::from(info.stored_width) * s).ceil() as u32,
        (f64::from(info.stored_height) * s).ceil() as u32,
    ))
}

/// Decodes a JPEG at the smallest DCT scale that is at least `need`. Returns the image and
/// its ICC profile.
pub fn decode_scaled(
    bytes: &[u8],
    need: (u32, u32),
    max_alloc: u64,
) -> Option<(DynamicImage, Option<Vec<u8>>)> {
    let mut d = Decoder::new(Cursor::new(bytes));
    d.set_max_decoding_buffer_size(usize::try_from(max_alloc).unwrap_or(usize::MAX));
    d.read_info().ok()?;
    let info = d.info()?;
    if !matches!(info.pixel_format, PixelFormat::L8 | PixelFormat::RGB24) {
        return None;
    }
    let (w, h) = d
        .scale(u16::try_from(need.0).ok()?, u16::try_from(need.1).ok()?)
        .ok()?;
    let (w, h) = (u32::from(w), u32::from(h));
    if w + 1 < need.0 || h + 1 < need.1 {
        return None;
    }
    let pixels = d.decode().ok()?;
    let icc = d.icc_profile();
    let img = match info.pixel_format {
        PixelFormat::RGB24 => DynamicImage::ImageRgb8(RgbImage::from_raw(w, h, pixels)?),
        _ => DynamicImage::ImageRgb8(
            DynamicImage::ImageLuma8(GrayImage::from_raw(w, h, pixels)?).into_rgb8(),
        ),
    };
    Some((img, icc))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;
    use crate::source::probe;
    use imgd_url::parse_canonical;

    fn jpeg(w: u32, h: u32) -> Vec<u8> {
        let img = RgbImage::from_fn(w, h, |x, y| match (x < w / 2, y < h / 2) {
            (true, true) => image::Rgb([255, 0, 0]),
            (false, true) => image::Rgb([0, 255, 0]),
            (true, false) => image::Rgb([0, 0, 255]),
            (false, false) => image::Rgb([255, 255, 0]),
        });
        let mut out = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Jpeg)
            .unwrap();
        out
    }

    fn need(bytes: &[u8], q: &str) -> Option<(u32, u32)> {
        let info = probe(bytes).unwrap();
        let (w, h) = info.oriented_size();
        needed_size(
            &info,
            &plan(&parse_canonical(q).unwrap(), w, h, 10_000).unwrap(),
        )
    }

    #[test]
    fn shrinks_only_when_it_halves() {
        let big = jpeg(1600, 800);
        assert_eq!(need(&big, "w=100"), Some((100, 50)));
        assert_eq!(need(&big, "w=800"), Some((800, 400)));
        assert_eq!(need(&big, "w=900"), None);
        // A crop of the left quarter to 100 px wide needs 1/4 of its 400 px.
        assert_eq!(
            need(&big, "tl_px=0,0&br_px=400,800&w=100"),
            Some((400, 200))
        );
        let png = {
            let mut out = Vec::new();
            DynamicImage::new_rgb8(100, 100)
                .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
                .unwrap();
            out
        };
        assert_eq!(need(&png, "w=10"), None);
    }

    #[test]
    fn decodes_at_the_smallest_covering_scale() {
        let big = jpeg(1600, 800);
        let (img, _) = decode_scaled(&big, (100, 50), 1 << 30).unwrap();
        assert_eq!((img.width(), img.height()), (200, 100), "1/8 scale");
        let (img, _) = decode_scaled(&big, (500, 250), 1 << 30).unwrap();
        assert_eq!((img.width(), img.height()), (800, 400), "1/2 scale");
        let rgba = img.to_rgba8();
        assert!(rgba.get_pixel(10, 10).0[0] > 200 && rgba.get_pixel(10, 10).0[1] < 60);
        assert!(decode_scaled(b"not a jpeg", (10, 10), 1 << 30).is_none());
    }
}

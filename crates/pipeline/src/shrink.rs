//! Shrink-on-load: a JPEG whose output needs far fewer pixels than it has is decoded directly
//! at 1/2, 1/4 or 1/8 scale (DCT scaling in libjpeg-turbo, vendored through `mozjpeg-sys`), so
//! its full-resolution pixels never exist in memory.
//!
//! Owns: when shrinking helps and the scaled decode itself. Must not: crop or resample (the
//! resize step scales the plan's region to whatever size was decoded). Anything the scaled
//! decoder cannot handle (CMYK, a decoder error, a file with an absurd number of scans)
//! returns `None`, and the caller decodes at full size as before: never worse than without it.
//!
//! Why libjpeg: at 1/8 scale the IDCT is almost free and Huffman decoding is all that is
//! left, where libjpeg is ~25% faster than the pure-Rust `jpeg-decoder` even without SIMD
//! (the `simd` cargo feature adds its nasm kernels, worth ~1.7x at 1/2 scale). With `simd`,
//! libjpeg also takes the JPEGs decoded at full size (measured 11% faster than zune-jpeg on
//! 2048 px photos resized to 1100–1400 px; without SIMD zune-jpeg is the faster one there).

use std::panic::{catch_unwind, AssertUnwindSafe};

use image::{DynamicImage, RgbImage};
use mozjpeg::{Decompress, Marker};

use crate::jpeg_eighth;
use crate::plan::Plan;
use crate::source::{SourceFormat, SourceInfo};

/// A progressive JPEG with more scans than this is left to the full decoder: libjpeg would
/// re-run its coefficient passes per scan, which a hostile file can make very slow.
const MAX_SCANS: usize = 100;

/// How much larger than the output a shrink-on-load decode must stay. A DCT-scaled (or
/// libwebp-rescaled) image is a box-filtered one; when it lands right at the output size the
/// Lanczos step has nothing left to do and the result is softer and more aliased than a real
/// Lanczos resize. libvips keeps 2× for this; Pillow (thumbor) keeps 1×. Measured on the
/// benchmark's photos (2048 px → 400–518 px, q80): 1× gives 36.15 dB against an exact
/// reference resize, 1.25× 36.55, 1.3× and up 36.9 (the DCT scale then halves at most), at
/// ~14% of JPEG throughput; a photo shrunk ≥ 1.3× beyond a DCT scale keeps that scale (a
/// 5640 px photo → 500 px still decodes at 1/8).
const RESAMPLE_MARGIN: f64 = 1.3;

/// The smallest decode size (in stored orientation) to resample from: every pixel the plan
/// needs, `RESAMPLE_MARGIN` larger (at most full size). `None` when a shrink would not halve
/// the image (with the `simd` feature: when the plan upscales, as libjpeg then also decodes
/// JPEGs at full size). JPEG (DCT scaling) and WebP (libwebp's rescaler, see `webp_decode`)
/// can decode to it.
pub fn needed_size(info: &SourceInfo, plan: &Plan) -> Option<(u32, u32)> {
    if !matches!(info.format, SourceFormat::Jpeg | SourceFormat::Webp) {
        return None;
    }
    // The plan scales uniformly, so orientation does not change the factor.
    let s =
        (f64::from(plan.scaled.0) / plan.region.w).max(f64::from(plan.scaled.1) / plan.region.h);
    let want = (s * RESAMPLE_MARGIN).min(1.0);
    // Without SIMD, zune-jpeg (the general decoder) is faster than libjpeg at full size; with
    // it, libjpeg decodes every JPEG the plan does not upscale.
    if want > 0.5 && !(cfg!(feature = "simd") && s <= 1.0) {
        return None;
    }
    // Less a hair, so that 1600 · (600/1600 · 1.3) = 780.0000000001 is 780.
    let side = |n: u32| (f64::from(n) * want - 1e-6).ceil() as u32;
    Some((side(info.stored_width), side(info.stored_height)))
}

/// The DCT scale numerator (over 8) for the smallest of 1/8, 1/4, 1/2, 1 whose output still
/// covers `need`. libjpeg rounds scaled sizes up, so `ceil(w * n / 8)` is what it produces.
fn numerator(width: u32, height: u32, need: (u32, u32)) -> Option<u8> {
    [1u8, 2, 4, 8].into_iter().find(|&n| {
        let scaled = |side: u32| (u64::from(side) * u64::from(n)).div_ceil(8);
        scaled(width) >= u64::from(need.0) && scaled(height) >= u64::from(need.1)
    })
}

/// Decodes a JPEG at the smallest DCT scale that is at least `need`. Returns the image and
/// its ICC profile.
pub fn decode_scaled(bytes: &[u8], need: (u32, u32)) -> Option<(DynamicImage, Option<Vec<u8>>)> {
    if scans(bytes) > MAX_SCANS {
        return None;
    }
    // libjpeg reports fatal errors by unwinding (without the panic hook); any of them sends
    // the image to the full decoder, which gives the error its proper code. The 1/8 decoder
    // returns `None` rather than panicking; the guard is there all the same.
    catch_unwind(AssertUnwindSafe(|| {
        if let Some((img, app2)) = jpeg_eighth::decode(bytes, need) {
            return Some((DynamicImage::ImageRgb8(img), icc_profile(app2)));
        }
        libjpeg_scaled(bytes, need)
    }))
    .ok()
    .flatten()
}

pub(crate) fn libjpeg_scaled(
    bytes: &[u8],
    need: (u32, u32),
) -> Option<(DynamicImage, Option<Vec<u8>>)> {
    let mut d = Decompress::with_markers(&[Marker::APP(2)])
        .from_mem(bytes)
        .ok()?;
    let (w, h) = (
        u32::try_from(d.width()).ok()?,
        u32::try_from(d.height()).ok()?,
    );
    d.scale(numerator(w, h, need)?);
    let icc = icc_profile(
        d.markers()
            .filter(|m| m.marker == Marker::APP(2))
            .map(|m| m.data),
    );
    // CMYK/YCCK cannot be converted to RGB by libjpeg: `rgb()` fails and the full decoder,
    // which can, takes over.
    let mut started = d.rgb().ok()?;
    let (ow, oh) = (
        u32::try_from(started.width()).ok()?,
        u32::try_from(started.height()).ok()?,
    );
    let pixels: Vec<u8> = started.read_scanlines().ok()?;
    started.finish().ok()?;
    let img = RgbImage::from_raw(ow, oh, pixels)?;
    Some((DynamicImage::ImageRgb8(img), icc))
}

/// The ICC profile from its APP2 chunks (`ICC_PROFILE\0`, sequence number, count, data),
/// joined in sequence order; `None` when absent or inconsistent.
fn icc_profile<'a>(app2: impl IntoIterator<Item = &'a [u8]>) -> Option<Vec<u8>> {
    const TAG: &[u8] = b"ICC_PROFILE\0";
    let mut chunks: Vec<(u8, &[u8])> = app2
        .into_iter()
        .filter(|data| data.starts_with(TAG))
        .filter_map(|data| {
            let rest = data.get(TAG.len()..)?;
            Some((*rest.first()?, rest.get(2..)?))
        })
        .collect();
    if chunks.is_empty() {
        return None;
    }
    chunks.sort_by_key(|c| c.0);
    Some(chunks.iter().flat_map(|c| c.1.iter().copied()).collect())
}

/// An upper bound on the number of scans (SOS markers). `FF DA` cannot occur inside
/// entropy-coded data (every data `FF` is followed by `00`), only in scans and in metadata.
fn scans(bytes: &[u8]) -> usize {
    memchr::memchr_iter(0xFF, bytes)
        .filter(|&i| bytes.get(i + 1) == Some(&0xDA))
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::plan;
    use crate::source::probe;
    use imgd_url::parse_canonical;
    use std::io::Cursor;

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
        assert_eq!(need(&big, "w=100"), Some((130, 65)), "1.3x the output");
        assert_eq!(need(&big, "w=600"), Some((780, 390)));
        // With SIMD, libjpeg also takes the full-size decodes (it is then the faster one).
        let full = cfg!(feature = "simd").then_some((1040, 520));
        assert_eq!(need(&big, "w=800"), full, "1.3x 800 is more than half");
        let full = cfg!(feature = "simd").then_some((1600, 800));
        assert_eq!(need(&big, "w=1300"), full, "never more than full size");
        assert_eq!(
            need(&big, "w=2000"),
            None,
            "upscaling decodes at full size elsewhere"
        );
        // A crop of the left quarter to 100 px wide needs 1/4 of its 400 px (and the margin).
        assert_eq!(
            need(&big, "tl_px=0,0&br_px=400,800&w=100"),
            Some((520, 260))
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
        let (img, _) = decode_scaled(&big, (100, 50)).unwrap();
        assert_eq!((img.width(), img.height()), (200, 100), "1/8 scale");
        let (img, _) = decode_scaled(&big, (201, 50)).unwrap();
        assert_eq!((img.width(), img.height()), (400, 200), "1/4 scale");
        let (img, _) = decode_scaled(&big, (500, 250)).unwrap();
        assert_eq!((img.width(), img.height()), (800, 400), "1/2 scale");
        let rgba = img.to_rgba8();
        assert!(rgba.get_pixel(10, 10).0[0] > 200 && rgba.get_pixel(10, 10).0[1] < 60);
        assert!(decode_scaled(b"not a jpeg", (10, 10)).is_none());
        // A truncated file is an error for libjpeg's caller, never an unwind out of it.
        // libjpeg reports a truncated file as a warning and pads it: a full-size image, no
        // unwind out of the decoder.
        let (img, _) = decode_scaled(&big[..big.len() / 3], (100, 50)).unwrap();
        assert_eq!((img.width(), img.height()), (200, 100));
        // A CMYK JPEG is left to the full decoder.
        let cmyk = {
            let mut out = Vec::new();
            let px = vec![0u8; 64 * 64 * 4];
            jpeg_encoder::Encoder::new(&mut out, 90)
                .encode(&px, 64, 64, jpeg_encoder::ColorType::Cmyk)
                .unwrap();
            out
        };
        assert!(decode_scaled(&cmyk, (8, 8)).is_none());
    }
}

//! Source bytes → 8-bit sRGB pixels, upright.
//!
//! Owns: decode limits, EXIF orientation, ICC → sRGB, 16-bit → 8-bit, grey → RGB, and the
//! choice of RGB vs RGBA working buffers (alpha only when the source has it and uses it). Must not: resize
//! or crop; planning decided those from the header.

use image::{DynamicImage, ImageDecoder, Limits};
use moxcms::{ColorProfile, DataColorSpace, Layout, TransformOptions};

use crate::error::PipelineError;
use crate::shrink::decode_scaled;
use crate::source::{reader, SourceFormat, SourceInfo};
use crate::webp_decode;

/// Decodes `bytes` (already probed as `info`), refusing sources over `max_pixels` before any
/// pixel is decoded and allocations over `max_alloc` bytes. With `shrink_to`, a JPEG may be
/// decoded at a reduced scale that is at least that size (shrink-on-load); a still WebP is
/// decoded by libwebp, scaled the same way.
pub fn decode(
    bytes: &[u8],
    info: &SourceInfo,
    max_pixels: u64,
    max_alloc: u64,
    shrink_to: Option<(u32, u32)>,
) -> Result<DynamicImage, PipelineError> {
    if info.pixels() > max_pixels {
        return Err(PipelineError::SourceTooLarge {
            width: info.stored_width,
            height: info.stored_height,
            limit: max_pixels,
        });
    }
    if info.format == SourceFormat::Webp {
        if let Some(mut img) = webp_decode::decode(bytes, shrink_to) {
            img.apply_orientation(info.orientation);
            return Ok(drop_opaque_alpha(img));
        }
    }
    let jpeg_shrink = shrink_to.filter(|_| info.format == SourceFormat::Jpeg);
    if let Some((mut img, icc)) = jpeg_shrink.and_then(|need| decode_scaled(bytes, need)) {
        img.apply_orientation(info.orientation);
        if let Some(icc) = icc {
            to_srgb(&mut img, &icc);
        }
        return Ok(img);
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(max_alloc);
    let mut r = reader(bytes, info.format);
    r.limits(limits);
    let mut decoder = r.into_decoder()?;
    let icc = decoder.icc_profile().ok().flatten();
    let mut img = DynamicImage::from_decoder(decoder)?;
    img.apply_orientation(info.orientation);
    let mut img = if info.has_alpha || img.color().has_alpha() {
        DynamicImage::ImageRgba8(img.into_rgba8())
    } else {
        DynamicImage::ImageRgb8(img.into_rgb8())
    };
    if let Some(icc) = icc {
        to_srgb(&mut img, &icc);
    }
    Ok(drop_opaque_alpha(img))
}

/// An RGBA image whose every pixel is opaque becomes RGB: many PNG and WebP files carry an
/// alpha channel they do not use, and without it resizing skips premultiplication and
/// encoders skip an alpha plane (for WebP, a lossless-compressed one that costs more than
/// the colour planes).
fn drop_opaque_alpha(img: DynamicImage) -> DynamicImage {
    match img {
        DynamicImage::ImageRgba8(b) if b.as_raw().chunks_exact(4).all(|p| p[3] == u8::MAX) => {
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(b).into_rgb8())
        }
        other => other,
    }
}

/// Converts pixels tagged with an RGB ICC profile to sRGB. Profiles that cannot be read, or
/// that are not RGB (CMYK sources were already converted by the decoder), leave pixels as they
/// are: a colour shift is better than refusing the image.
fn to_srgb(img: &mut DynamicImage, icc: &[u8]) {
    let Ok(src) = ColorProfile::new_from_slice(icc) else {
        return;
    };
    if src.color_space != DataColorSpace::Rgb || is_srgb(&src) {
        return;
    }
    let dst = ColorProfile::new_srgb();
    let (layout, buf): (Layout, &mut [u8]) = match img {
        DynamicImage::ImageRgb8(b) => (Layout::Rgb, b.as_mut()),
        DynamicImage::ImageRgba8(b) => (Layout::Rgba, b.as_mut()),
        _ => return,
    };
    let Ok(t) = src.create_transform_8bit(layout, &dst, layout, TransformOptions::default()) else {
        return;
    };
    let input = buf.to_vec();
    // On failure `buf` may be partly written; restore it so the image stays as decoded.
    if t.transform(&input, buf).is_err() {
        buf.copy_from_slice(&input);
    }
}

/// Profiles whose colorants match sRGB's need no transform (most embedded "sRGB" profiles);
/// their tone curves are taken to be sRGB's too, which holds for the profiles seen in practice.
fn is_srgb(p: &ColorProfile) -> bool {
    let s = ColorProfile::new_srgb();
    let close = |a: moxcms::Xyzd, b: moxcms::Xyzd| {
        (a.x - b.x).abs() < 2e-3 && (a.y - b.y).abs() < 2e-3 && (a.z - b.z).abs() < 2e-3
    };
    close(p.red_colorant, s.red_colorant)
        && close(p.green_colorant, s.green_colorant)
        && close(p.blue_colorant, s.blue_colorant)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alpha_is_kept_only_when_used() {
        let opaque = DynamicImage::ImageRgba8(image::RgbaImage::from_pixel(
            4,
            4,
            image::Rgba([1, 2, 3, 255]),
        ));
        let out = drop_opaque_alpha(opaque);
        assert_eq!(out.as_rgb8().map(|b| b.get_pixel(3, 3).0), Some([1, 2, 3]));
        let mut used = image::RgbaImage::from_pixel(4, 4, image::Rgba([1, 2, 3, 255]));
        used.put_pixel(2, 2, image::Rgba([1, 2, 3, 0]));
        let out = drop_opaque_alpha(DynamicImage::ImageRgba8(used));
        assert!(out.as_rgba8().is_some());
    }
}

//! Crop-and-resize in one resampling pass (fast_image_resize, Lanczos3, SIMD).
//!
//! The region is in oriented-source pixels; when the decoder produced a smaller image
//! (shrink-on-load) the region is scaled to the decoded size here. Alpha is premultiplied by
//! the resizer only for RGBA buffers, i.e. only when the image has alpha; in 8 bits by
//! fast_image_resize, or in 16 bits by `resize_deep.rs` when the caller asks for
//! [`AlphaDepth::Bits16`] (why: see that file).

use fast_image_resize::{FilterType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use crate::error::PipelineError;
use crate::plan::Region;
use crate::steps::resize_deep;

/// Precision of premultiplied colour while an image with alpha is resampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlphaDepth {
    /// 8 bits: fastest, and what lossless outputs compress best.
    Bits8,
    /// 16 bits: smooth colour under low alpha, which lossy outputs compress best.
    Bits16,
}

/// Resamples `region` of `img` (whose full size corresponds to `source` px) to `to`.
pub fn resize(
    img: DynamicImage,
    source: (u32, u32),
    region: Region,
    to: (u32, u32),
    depth: AlphaDepth,
) -> Result<DynamicImage, PipelineError> {
    let (fx, fy) = (
        f64::from(img.width()) / f64::from(source.0),
        f64::from(img.height()) / f64::from(source.1),
    );
    // Scaling can land a hair outside the image (227 · 114/227 = 114.00000000000001):
    // clamp, or the resizer rejects the box.
    let (iw, ih) = (f64::from(img.width()), f64::from(img.height()));
    let (x, y) = (
        (region.x * fx).clamp(0.0, iw),
        (region.y * fy).clamp(0.0, ih),
    );
    let crop = (
        x,
        y,
        (region.w * fx).min(iw - x),
        (region.h * fy).min(ih - y),
    );
    let whole = crop.0 == 0.0
        && crop.1 == 0.0
        && crop.2 == f64::from(img.width())
        && crop.3 == f64::from(img.height());
    if whole && to == (img.width(), img.height()) {
        return Ok(img);
    }
    // Upscaling with Lanczos rings; CatmullRom is the usual choice there.
    let filter = if to.0 as f64 > crop.2 || to.1 as f64 > crop.3 {
        FilterType::CatmullRom
    } else {
        FilterType::Lanczos3
    };
    let opts = ResizeOptions::new()
        .resize_alg(ResizeAlg::Convolution(filter))
        .crop(crop.0, crop.1, crop.2, crop.3);
    let img = match (img, depth) {
        (DynamicImage::ImageRgba8(rgba), AlphaDepth::Bits16) => {
            return resize_deep::resize(rgba, &opts, to).map(DynamicImage::ImageRgba8);
        }
        (img, _) => img,
    };
    let mut dst = match &img {
        DynamicImage::ImageRgba8(_) => DynamicImage::new_rgba8(to.0, to.1),
        _ => DynamicImage::new_rgb8(to.0, to.1),
    };
    Resizer::new()
        .resize(&img, &mut dst, &opts)
        .map_err(|e| PipelineError::Encode(format!("resize: {e}")))?;
    Ok(dst)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testimg::*;

    #[test]
    fn crops_then_scales() {
        let img = halves(400, 200);
        // Keep the right half (blue) only.
        let region = Region {
            x: 200.0,
            y: 0.0,
            w: 200.0,
            h: 200.0,
        };
        let out = resize(img, (400, 200), region, (50, 50), AlphaDepth::Bits8).unwrap();
        assert_eq!((out.width(), out.height()), (50, 50));
        assert!(near(px(&out, 25, 25), BLUE));
        assert!(near(px(&out, 0, 0), BLUE));
    }

    /// Found by the corpus replay (libjpeg-turbo's 227×149 testorig.jpg decoded at 1/2).
    #[test]
    fn regression_odd_sizes_at_reduced_scale() {
        let img = halves(114, 75);
        let region = Region {
            x: 0.0,
            y: 0.0,
            w: 227.0,
            h: 149.0,
        };
        let out = resize(img, (227, 149), region, (100, 66), AlphaDepth::Bits8).unwrap();
        assert_eq!((out.width(), out.height()), (100, 66));
    }

    #[test]
    fn region_scales_with_a_smaller_decode() {
        // The decoder produced 100x50 for a 400x200 source: region coordinates still refer
        // to the 400x200 source.
        let img = halves(100, 50);
        let region = Region {
            x: 0.0,
            y: 0.0,
            w: 400.0,
            h: 200.0,
        };
        let out = resize(img.clone(), (400, 200), region, (20, 20), AlphaDepth::Bits8).unwrap();
        assert!(near(px(&out, 0, 0), GREEN), "{:?}", px(&out, 0, 0));
        assert!(near(px(&out, 5, 15), RED));
        assert!(near(px(&out, 15, 15), BLUE));
        let right = Region {
            x: 200.0,
            y: 0.0,
            w: 200.0,
            h: 200.0,
        };
        let out = resize(img, (400, 200), right, (10, 10), AlphaDepth::Bits16).unwrap();
        assert!(near(px(&out, 0, 0), BLUE) && near(px(&out, 9, 9), BLUE));
    }
}

//! The image served when an origin is missing: a neutral square with a picture glyph, 400×400,
//! or fitted (ratio kept) into the requested `w`/`h` box. No other transformation applies.

use image::{DynamicImage, Rgb, RgbImage};
use imgd_url::OutputFormat;

use crate::encode::encode;
use crate::error::PipelineError;

pub const DEFAULT_SIDE: u32 = 400;

/// Side of the square placeholder for a requested box (`dpr` already applied).
pub fn side(width: Option<u32>, height: Option<u32>, max_side: u32) -> u32 {
    let side = match (width, height) {
        (Some(w), Some(h)) => w.min(h),
        (Some(s), None) | (None, Some(s)) => s,
        (None, None) => DEFAULT_SIDE,
    };
    side.clamp(1, max_side.max(1))
}

pub fn placeholder(side: u32, format: OutputFormat) -> Result<Vec<u8>, PipelineError> {
    let s = f64::from(side);
    let bg = Rgb([229u8, 231, 235]);
    let fg = Rgb([156u8, 163, 175]);
    let img = RgbImage::from_fn(side, side, |x, y| {
        let (u, v) = ((f64::from(x) + 0.5) / s, (f64::from(y) + 0.5) / s);
        // A sun and a mountain, in unit coordinates.
        let sun = (u - 0.64).powi(2) + (v - 0.36).powi(2) < 0.07f64.powi(2);
        let mountain = v < 0.72 && v > 0.40 && (u - 0.42).abs() < (v - 0.40) * 0.9;
        let ground = (0.72..0.76).contains(&v) && (0.18..0.82).contains(&u);
        if sun || mountain || ground {
            fg
        } else {
            bg
        }
    });
    encode(&DynamicImage::ImageRgb8(img), format, Some(85))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(side(None, None, 10_000), 400);
        assert_eq!(side(Some(300), None, 10_000), 300);
        assert_eq!(side(Some(300), Some(100), 10_000), 100);
        assert_eq!(side(Some(90_000), None, 10_000), 10_000);
        let png = placeholder(50, OutputFormat::Png).unwrap();
        let img = image::load_from_memory(&png).unwrap();
        assert_eq!((img.width(), img.height()), (50, 50));
    }
}

//! Alpha removal for formats without it (JPEG): composite over the background colour.

use image::{DynamicImage, Rgb, RgbImage};
use imgd_url::Color;

pub fn flatten(img: DynamicImage, bg: Color) -> DynamicImage {
    let DynamicImage::ImageRgba8(rgba) = img else {
        return img;
    };
    let (w, h) = rgba.dimensions();
    let mut out = RgbImage::new(w, h);
    for (o, p) in out.pixels_mut().zip(rgba.pixels()) {
        let a = u32::from(p[3]);
        let mix = |c: u8, b: u8| ((u32::from(c) * a + u32::from(b) * (255 - a) + 127) / 255) as u8;
        *o = Rgb([mix(p[0], bg.r), mix(p[1], bg.g), mix(p[2], bg.b)]);
    }
    DynamicImage::ImageRgb8(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgba, RgbaImage};

    #[test]
    fn composites_over_background() {
        let img = RgbaImage::from_fn(2, 1, |x, _| {
            if x == 0 {
                Rgba([255, 0, 0, 0])
            } else {
                Rgba([255, 0, 0, 128])
            }
        });
        let out = flatten(DynamicImage::ImageRgba8(img), Color::WHITE).into_rgb8();
        assert_eq!(out.get_pixel(0, 0).0, [255, 255, 255]);
        assert_eq!(out.get_pixel(1, 0).0, [255, 127, 127]);
    }
}

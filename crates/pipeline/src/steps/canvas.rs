//! `func=fit` padding: the scaled image placed on a canvas of `bg_color`.

use image::{DynamicImage, Rgb, RgbImage, Rgba, RgbaImage};
use imgd_url::Color;

use crate::plan::Canvas;

pub fn extend(img: DynamicImage, canvas: Canvas, bg: Color) -> DynamicImage {
    if canvas.width == img.width() && canvas.height == img.height() {
        return img;
    }
    if bg.a == 255 && !img.color().has_alpha() {
        let mut out = RgbImage::from_pixel(canvas.width, canvas.height, Rgb([bg.r, bg.g, bg.b]));
        image::imageops::replace(&mut out, &img.into_rgb8(), canvas.x.into(), canvas.y.into());
        DynamicImage::ImageRgb8(out)
    } else {
        let mut out =
            RgbaImage::from_pixel(canvas.width, canvas.height, Rgba([bg.r, bg.g, bg.b, bg.a]));
        // Composited, so `bg_color` also shows through the image's own transparent parts.
        image::imageops::overlay(
            &mut out,
            &img.into_rgba8(),
            canvas.x.into(),
            canvas.y.into(),
        );
        DynamicImage::ImageRgba8(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testimg::*;

    #[test]
    fn pads_with_colour_around_the_image() {
        let img = DynamicImage::ImageRgb8(halves(40, 20).into_rgb8());
        let c = Canvas {
            width: 60,
            height: 40,
            x: 10,
            y: 10,
        };
        let out = extend(img, c, Color::rgb(0, 255, 0));
        assert_eq!((out.width(), out.height()), (60, 40));
        assert!(!out.color().has_alpha());
        assert_eq!(px(&out, 0, 0), [0, 255, 0, 255]);
        assert_eq!(px(&out, 59, 39), [0, 255, 0, 255]);
        assert_eq!(px(&out, 25, 25), RED.0);
        assert_eq!(px(&out, 45, 25), BLUE.0);
    }

    #[test]
    fn transparent_background_makes_rgba() {
        let img = halves(10, 10);
        let out = extend(
            img,
            Canvas {
                width: 20,
                height: 10,
                x: 5,
                y: 0,
            },
            Color::TRANSPARENT,
        );
        assert_eq!(px(&out, 0, 0)[3], 0);
        assert_eq!(px(&out, 12, 5), BLUE.0);
    }
}

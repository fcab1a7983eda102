//! `r=DEG`: counter-clockwise rotation. Right angles are exact pixel moves; other angles
//! resample bilinearly onto a canvas that holds the whole rotated image, filled with the
//! background colour.

use image::{DynamicImage, Rgba, RgbaImage};
use imgd_url::{Color, Hundredths};

pub fn rotate(img: DynamicImage, ccw: Hundredths, bg: Color) -> DynamicImage {
    match ccw.0 {
        0 => img,
        // image's rotations are clockwise: 90° counter-clockwise is 270° clockwise.
        9000 => img.rotate270(),
        18000 => img.rotate180(),
        27000 => img.rotate90(),
        _ => arbitrary(img, ccw.as_f64(), bg),
    }
}

fn arbitrary(img: DynamicImage, degrees: f64, bg: Color) -> DynamicImage {
    let keep_rgb = !img.color().has_alpha() && bg.a == 255;
    let src = img.into_rgba8();
    let (w, h) = (f64::from(src.width()), f64::from(src.height()));
    let t = degrees.to_radians();
    let (sin, cos) = t.sin_cos();
    let nw = (w * cos.abs() + h * sin.abs()).round().max(1.0);
    let nh = (w * sin.abs() + h * cos.abs()).round().max(1.0);
    let (cx, cy, ncx, ncy) = (w / 2.0, h / 2.0, nw / 2.0, nh / 2.0);
    let fill = [bg.r, bg.g, bg.b, bg.a];
    let out = RgbaImage::from_fn(nw as u32, nh as u32, |x, y| {
        // Inverse mapping. Image y points down, so a counter-clockwise turn on screen maps
        // an output offset (dx, dy) back to (dx·cos − dy·sin, dx·sin + dy·cos).
        let (dx, dy) = (f64::from(x) + 0.5 - ncx, f64::from(y) + 0.5 - ncy);
        let sx = dx * cos - dy * sin + cx - 0.5;
        let sy = dx * sin + dy * cos + cy - 0.5;
        Rgba(sample(&src, sx, sy, fill))
    });
    let out = DynamicImage::ImageRgba8(out);
    if keep_rgb {
        DynamicImage::ImageRgb8(out.into_rgb8())
    } else {
        out
    }
}

/// Bilinear sample at (x, y), treating pixels outside the image as `fill`.
fn sample(src: &RgbaImage, x: f64, y: f64, fill: [u8; 4]) -> [u8; 4] {
    let (w, h) = (i64::from(src.width()), i64::from(src.height()));
    let (x0, y0) = (x.floor(), y.floor());
    let (fx, fy) = (x - x0, y - y0);
    let (x0, y0) = (x0 as i64, y0 as i64);
    if x0 < -1 || y0 < -1 || x0 >= w || y0 >= h {
        return fill;
    }
    let at = |xi: i64, yi: i64| -> [f64; 4] {
        let p = if xi < 0 || yi < 0 || xi >= w || yi >= h {
            fill
        } else {
            src.get_pixel(xi as u32, yi as u32).0
        };
        p.map(f64::from)
    };
    let (a, b, c, d) = (
        at(x0, y0),
        at(x0 + 1, y0),
        at(x0, y0 + 1),
        at(x0 + 1, y0 + 1),
    );
    let mut out = [0u8; 4];
    for i in 0..4 {
        let top = a[i] * (1.0 - fx) + b[i] * fx;
        let bottom = c[i] * (1.0 - fx) + d[i] * fx;
        out[i] = (top * (1.0 - fy) + bottom * fy).round().clamp(0.0, 255.0) as u8;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testimg::*;

    #[test]
    fn right_angles_are_counter_clockwise() {
        // Green marker top-left of a 40x20 image. Turning 90° counter-clockwise moves the
        // top-left corner to the bottom-left.
        let r = rotate(halves(40, 20), Hundredths(9000), Color::WHITE);
        assert_eq!((r.width(), r.height()), (20, 40));
        assert_eq!(px(&r, 0, 39), GREEN.0);
        let r = rotate(halves(40, 20), Hundredths(27000), Color::WHITE);
        assert_eq!(px(&r, 19, 0), GREEN.0);
        let r = rotate(halves(40, 20), Hundredths(18000), Color::WHITE);
        assert_eq!(px(&r, 39, 19), GREEN.0);
    }

    #[test]
    fn arbitrary_angle_grows_canvas_and_fills() {
        let img = DynamicImage::ImageRgb8(halves(100, 100).into_rgb8());
        let r = rotate(img, Hundredths(4500), Color::rgb(0, 0, 0));
        assert_eq!((r.width(), r.height()), (141, 141));
        assert!(!r.color().has_alpha());
        assert_eq!(px(&r, 0, 0), [0, 0, 0, 255], "corners are background");
        // Right of centre (blue) turns up-right; left of centre (red) turns down-left.
        assert!(near(px(&r, 91, 49), BLUE), "{:?}", px(&r, 91, 49));
        assert!(near(px(&r, 49, 91), RED), "{:?}", px(&r, 49, 91));
        // The green (top-left) corner turns counter-clockwise to the left-hand vertex.
        let left = px(&r, 8, 70);
        assert!(near(left, GREEN), "{left:?}");
    }

    #[test]
    fn alpha_images_get_transparent_corners() {
        let img = halves(100, 100);
        let r = rotate(img, Hundredths(3000), Color::TRANSPARENT);
        assert_eq!(px(&r, 0, 0)[3], 0);
    }
}

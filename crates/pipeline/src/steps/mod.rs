//! One file per processing step, each a plain function over a decoded image with its tests
//! beside it. The order they run in is written once, in `crate::process`.

pub mod canvas;
pub mod flatten;
pub mod flip;
pub mod resize;
mod resize_deep;
pub mod rotate;

#[cfg(test)]
pub(crate) mod testimg {
    //! Small generated images with known colours, for step tests.
    use image::{DynamicImage, Rgba, RgbaImage};

    pub const RED: Rgba<u8> = Rgba([255, 0, 0, 255]);
    pub const BLUE: Rgba<u8> = Rgba([0, 0, 255, 255]);
    pub const GREEN: Rgba<u8> = Rgba([0, 255, 0, 255]);

    /// Left half red, right half blue, with a green square in the top-left corner.
    pub fn halves(w: u32, h: u32) -> DynamicImage {
        let img = RgbaImage::from_fn(w, h, |x, y| {
            if x < w / 4 && y < h / 4 {
                GREEN
            } else if x < w / 2 {
                RED
            } else {
                BLUE
            }
        });
        DynamicImage::ImageRgba8(img)
    }

    pub fn px(img: &DynamicImage, x: u32, y: u32) -> [u8; 4] {
        img.to_rgba8().get_pixel(x, y).0
    }

    /// Channel-wise closeness, for colours after resampling.
    pub fn near(a: [u8; 4], b: Rgba<u8>) -> bool {
        a.iter().zip(b.0).all(|(x, y)| x.abs_diff(y) <= 24)
    }
}

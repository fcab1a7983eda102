//! `flip=h|v|hv`: mirror the image.

use image::DynamicImage;
use imgd_url::Flip;

pub fn flip(img: DynamicImage, flip: Flip) -> DynamicImage {
    match flip {
        Flip::Horizontal => img.fliph(),
        Flip::Vertical => img.flipv(),
        Flip::Both => img.rotate180(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::steps::testimg::*;

    #[test]
    fn directions() {
        // Green marker starts top-left.
        let h = flip(halves(40, 20), Flip::Horizontal);
        assert_eq!(px(&h, 39, 0), GREEN.0);
        assert_eq!(px(&h, 0, 19), BLUE.0);
        let v = flip(halves(40, 20), Flip::Vertical);
        assert_eq!(px(&v, 0, 19), GREEN.0);
        let hv = flip(halves(40, 20), Flip::Both);
        assert_eq!(px(&hv, 39, 19), GREEN.0);
    }
}

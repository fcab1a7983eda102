//! Still WebP sources decoded by libwebp (vendored by `libwebp-sys`), scaled during
//! decoding when the output needs few of their pixels.
//!
//! Owns: the libwebp decode of stills. libwebp rescales row by row as it decodes, so a scaled
//! decode never holds the full-size RGB frame (images with alpha are decoded at full size,
//! see `decode`). Must not: handle animations or files with an
//! ICC profile (`None`: the caller's general decoder takes them, with colour management), or
//! resample to the final size (it decodes at 1/2, 1/4 or 1/8 like the JPEG path, and the
//! resize step's Lanczos filter does the rest, so quality matches the other formats').

use image::{DynamicImage, RgbImage, RgbaImage};
use libwebp_sys::{
    VP8StatusCode, WebPBitstreamFeatures, WebPDecode, WebPDecoderConfig, WebPFreeDecBuffer,
    WebPGetFeatures, WEBP_CSP_MODE,
};

/// Decodes a still WebP, at the smallest of 1/2, 1/4, 1/8 scale that still covers `need`
/// (or at full size without `need`, or when it has alpha). `None` for animations, ICC-tagged files and any error.
pub fn decode(bytes: &[u8], need: Option<(u32, u32)>) -> Option<DynamicImage> {
    if has_icc_or_animation(bytes) {
        return None;
    }
    let mut features: WebPBitstreamFeatures = unsafe { std::mem::zeroed() };
    // SAFETY: `bytes` is a valid slice; `features` is a plain C struct libwebp fills.
    let status = unsafe { WebPGetFeatures(bytes.as_ptr(), bytes.len(), &mut features) };
    if status != VP8StatusCode::VP8_STATUS_OK || features.has_animation != 0 {
        return None;
    }
    let (w, h) = (
        u32::try_from(features.width).ok()?,
        u32::try_from(features.height).ok()?,
    );
    let alpha = features.has_alpha != 0;
    // Images with alpha are decoded at full size: libwebp's rescaler averages colour without
    // weighting it by alpha, which left semi-transparent edges noisier (measured: outputs ~9%
    // larger and lower PSNR than a full decode + our premultiplied Lanczos).
    let divisor = match need.filter(|_| !alpha) {
        Some(need) => [8u32, 4, 2]
            .into_iter()
            .find(|&d| w.div_ceil(d) >= need.0 && h.div_ceil(d) >= need.1)
            .unwrap_or(1),
        None => 1,
    };
    let (ow, oh) = (w.div_ceil(divisor), h.div_ceil(divisor));
    let channels = if alpha { 4 } else { 3 };
    let stride = usize::try_from(ow).ok()? * channels;
    let len = stride.checked_mul(usize::try_from(oh).ok()?)?;
    // Not zeroed: libwebp writes every byte on success (zeroing a full-size frame first cost
    // a measurable memset), and the buffer's length is set only then.
    let mut pixels: Vec<u8> = Vec::with_capacity(len);

    crate::webp_alpha::install();
    let mut config = WebPDecoderConfig::new().ok()?;
    config.input = features;
    if divisor > 1 {
        config.options.use_scaling = 1;
        config.options.scaled_width = i32::try_from(ow).ok()?;
        config.options.scaled_height = i32::try_from(oh).ok()?;
    }
    config.output.colorspace = if alpha {
        WEBP_CSP_MODE::MODE_RGBA
    } else {
        WEBP_CSP_MODE::MODE_RGB
    };
    // Decode straight into our buffer: no copy, and nothing for libwebp to free.
    config.output.is_external_memory = 1;
    config.output.u.RGBA.rgba = pixels.spare_capacity_mut().as_mut_ptr().cast::<u8>();
    config.output.u.RGBA.stride = i32::try_from(stride).ok()?;
    config.output.u.RGBA.size = len;
    // SAFETY: the output buffer is `pixels`' allocation, `stride * oh` bytes as declared in
    // `config`; it outlives the call. `WebPFreeDecBuffer` frees nothing external and is safe to call.
    let status = unsafe {
        let s = WebPDecode(bytes.as_ptr(), bytes.len(), &mut config);
        WebPFreeDecBuffer(&mut config.output);
        s
    };
    if status != VP8StatusCode::VP8_STATUS_OK {
        return None;
    }
    // SAFETY: on success libwebp has written all `oh` rows of `stride` bytes.
    unsafe { pixels.set_len(len) };
    Some(if alpha {
        DynamicImage::ImageRgba8(RgbaImage::from_raw(ow, oh, pixels)?)
    } else {
        DynamicImage::ImageRgb8(RgbImage::from_raw(ow, oh, pixels)?)
    })
}

/// Whether an extended (VP8X) WebP declares an ICC profile or an animation.
fn has_icc_or_animation(bytes: &[u8]) -> bool {
    const ICC: u8 = 0x20;
    const ANIMATION: u8 = 0x02;
    match (bytes.get(12..16), bytes.get(20)) {
        (Some(b"VP8X"), Some(flags)) => flags & (ICC | ANIMATION) != 0,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn webp(w: u32, h: u32, alpha: bool) -> Vec<u8> {
        // Left half red, right half blue; alpha 128 in the bottom half when asked.
        let px: Vec<u8> = (0..h)
            .flat_map(|y| {
                (0..w).flat_map(move |x| {
                    let c = if x < w / 2 { [250, 0, 0] } else { [0, 0, 250] };
                    let a = if alpha && y >= h / 2 { 128 } else { 255 };
                    [c[0], c[1], c[2], a]
                })
            })
            .collect();
        crate::webp_encode::encode(&px, w, h, true, 90).unwrap()
    }

    #[test]
    fn scales_while_decoding() {
        let src = webp(800, 400, false);
        let img = decode(&src, Some((100, 50))).unwrap();
        assert_eq!((img.width(), img.height()), (100, 50), "1/8");
        let img = decode(&src, Some((101, 50))).unwrap();
        assert_eq!((img.width(), img.height()), (200, 100), "1/4");
        let img = decode(&src, None).unwrap();
        assert_eq!((img.width(), img.height()), (800, 400));
        let rgb = decode(&src, Some((100, 50))).unwrap().to_rgb8();
        let (l, r) = (rgb.get_pixel(10, 25).0, rgb.get_pixel(90, 25).0);
        assert!(l[0] > 200 && l[2] < 50, "left is red: {l:?}");
        assert!(r[2] > 200 && r[0] < 50, "right is blue: {r:?}");
    }

    #[test]
    fn keeps_alpha() {
        let img = decode(&webp(64, 64, true), Some((16, 16))).unwrap();
        let rgba = img.as_rgba8().expect("RGBA output");
        assert_eq!(rgba.dimensions(), (64, 64), "alpha images are not scaled");
        assert!(rgba.get_pixel(16, 8).0[3] > 250);
        let [r, _, _, a] = rgba.get_pixel(16, 52).0;
        assert!((120..=136).contains(&a));
        assert!(r > 235, "straight (not premultiplied) colour: {r}");
    }

    #[test]
    fn refuses_what_it_does_not_handle() {
        assert!(decode(b"RIFF\0\0\0\0WEBPVP8 garbage", None).is_none());
        let src = webp(64, 64, false);
        assert!(decode(&src[..src.len() / 2], None).is_none(), "truncated");
        let mut icc = b"RIFF\0\0\0\0WEBPVP8X\x0a\0\0\0".to_vec();
        icc.extend([ICC_FLAG, 0, 0, 0]);
        assert!(has_icc_or_animation(&icc));
    }

    const ICC_FLAG: u8 = 0x20;
}

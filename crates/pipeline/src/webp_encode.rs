//! WebP output through libwebp (vendored by `libwebp-sys`, the same build the decoder uses).
//!
//! Owns: encoder settings. Lossy colour at the requested quality, losslessly compressed alpha
//! (as Pillow and sharp do by default) without a pre-filter, method 4. Must not: write
//! metadata (none is kept).
//! libwebp 1.6 is used directly rather than through the `webp` crate, whose pinned libwebp
//! 1.3 compressed the alpha plane of transparent images ~10% worse.

use std::ffi::c_void;

use libwebp_sys::{
    WebPConfig, WebPEncode, WebPMemoryWrite, WebPMemoryWriter, WebPMemoryWriterClear,
    WebPMemoryWriterInit, WebPPicture, WebPPictureFree, WebPPictureImportRGB,
    WebPPictureImportRGBA, WebPValidateConfig,
};

use crate::error::PipelineError;

/// Encodes RGB (`alpha == false`) or RGBA pixels, rows packed, at quality `q`.
pub fn encode(pixels: &[u8], w: u32, h: u32, alpha: bool, q: u8) -> Result<Vec<u8>, PipelineError> {
    let fail = |what: &str| PipelineError::Encode(format!("WebP: {what}"));
    let channels: usize = if alpha { 4 } else { 3 };
    let stride = usize::try_from(w).map_err(|_| fail("width"))? * channels;
    if pixels.len() < stride * usize::try_from(h).map_err(|_| fail("height"))? {
        return Err(fail("pixel buffer too small"));
    }
    let mut config = WebPConfig::new().map_err(|()| fail("configuration"))?;
    config.quality = f32::from(q);
    config.alpha_compression = 1;
    // No predictive pre-filter on the alpha plane: the lossless coder that compresses it has
    // its own predictors, so libwebp's default (try no filter and one guessed filter, keep the
    // smaller) encoded the plane twice for the same bytes. On the benchmark's transparent
    // images the sizes were identical to the byte and alpha encoding took half the time.
    config.alpha_filtering = 0;
    config.method = 4;
    let mut pic = WebPPicture::new().map_err(|()| fail("picture"))?;
    pic.width = i32::try_from(w).map_err(|_| fail("width"))?;
    pic.height = i32::try_from(h).map_err(|_| fail("height"))?;
    let stride = i32::try_from(stride).map_err(|_| fail("stride"))?;
    // SAFETY: `pixels` holds `h` rows of `stride` bytes (checked above) and outlives the
    // calls; `pic` and `writer` are initialised by libwebp's own init functions and freed on
    // every path below; the writer callback is libwebp's memory writer with its state.
    unsafe {
        if WebPValidateConfig(&config) == 0 {
            return Err(fail("invalid configuration"));
        }
        let imported = if alpha {
            WebPPictureImportRGBA(&mut pic, pixels.as_ptr(), stride)
        } else {
            WebPPictureImportRGB(&mut pic, pixels.as_ptr(), stride)
        };
        if imported == 0 {
            WebPPictureFree(&mut pic);
            return Err(fail("out of memory importing pixels"));
        }
        let mut writer: WebPMemoryWriter = std::mem::zeroed();
        WebPMemoryWriterInit(&mut writer);
        pic.writer = Some(WebPMemoryWrite);
        pic.custom_ptr = (&raw mut writer).cast::<c_void>();
        let ok = WebPEncode(&config, &mut pic);
        let error = pic.error_code;
        WebPPictureFree(&mut pic);
        let out = if ok != 0 && !writer.mem.is_null() {
            Ok(std::slice::from_raw_parts(writer.mem, writer.size).to_vec())
        } else {
            Err(fail(&format!("encoding failed ({error:?})")))
        };
        WebPMemoryWriterClear(&mut writer);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_what_image_decodes_back() {
        let (w, h) = (64u32, 32u32);
        let rgba: Vec<u8> = (0..w * h)
            .flat_map(|i| {
                let a = if i % w < w / 2 { 255 } else { 0 };
                [200, 30, 30, a]
            })
            .collect();
        let out = encode(&rgba, w, h, true, 80).unwrap();
        let back = image::load_from_memory(&out).unwrap().to_rgba8();
        assert_eq!(back.dimensions(), (w, h));
        assert!(back.get_pixel(5, 5).0[3] > 250 && back.get_pixel(5, 5).0[0] > 170);
        assert_eq!(back.get_pixel(60, 5).0[3], 0, "alpha is lossless");
        let rgb: Vec<u8> = rgba
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect();
        assert!(encode(&rgb, w, h, false, 80).is_ok());
        assert!(encode(&rgb[..10], w, h, false, 80).is_err());
    }
}

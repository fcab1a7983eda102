//! Counting animation frames from the container structure alone (GIF blocks, WebP `ANMF`
//! chunks), without decoding any pixel, so that animation limits apply before decoding.
//! imgd itself decodes only the first frame; the limits bound what a hostile file may hold.
//!
//! Owns: frame counting. Must not: decode. Malformed structure simply ends the count (the
//! decoder reports the damage).

use crate::source::SourceFormat;

/// Frames in a source and their total pixel area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FrameStats {
    pub frames: u32,
    pub pixels: u64,
}

pub fn count(bytes: &[u8], format: SourceFormat) -> FrameStats {
    match format {
        SourceFormat::Gif => gif(bytes),
        SourceFormat::Webp => webp(bytes),
        SourceFormat::Jpeg | SourceFormat::Png => FrameStats::default(),
    }
}

fn u16le(b: &[u8], at: usize) -> Option<u64> {
    Some(u64::from(*b.get(at)?) | u64::from(*b.get(at + 1)?) << 8)
}

fn gif(b: &[u8]) -> FrameStats {
    let mut stats = FrameStats::default();
    let Some(&flags) = b.get(10) else {
        return stats;
    };
    let mut i = 13;
    if flags & 0x80 != 0 {
        i += 3 << ((flags & 7) + 1);
    }
    // Skips data sub-blocks (size byte + data, ended by a zero size); None when truncated.
    let skip_sub_blocks = |mut i: usize| -> Option<usize> {
        loop {
            let n = usize::from(*b.get(i)?);
            i += 1;
            if n == 0 {
                return Some(i);
            }
            i += n;
        }
    };
    while let Some(&tag) = b.get(i) {
        match tag {
            0x21 => match skip_sub_blocks(i + 2) {
                Some(next) => i = next,
                None => break,
            },
            0x2c => {
                let (Some(w), Some(h), Some(&f)) = (u16le(b, i + 5), u16le(b, i + 7), b.get(i + 9))
                else {
                    break;
                };
                stats.frames += 1;
                stats.pixels += w * h;
                i += 10;
                if f & 0x80 != 0 {
                    i += 3 << ((f & 7) + 1);
                }
                match skip_sub_blocks(i + 1) {
                    Some(next) => i = next,
                    None => break,
                }
            }
            _ => break,
        }
    }
    stats
}

fn webp(b: &[u8]) -> FrameStats {
    let mut stats = FrameStats::default();
    if b.len() < 12 || &b[..4] != b"RIFF" || &b[8..12] != b"WEBP" {
        return stats;
    }
    let u24 = |at: usize| -> Option<u64> {
        Some(
            u64::from(*b.get(at)?)
                | u64::from(*b.get(at + 1)?) << 8
                | u64::from(*b.get(at + 2)?) << 16,
        )
    };
    let mut i = 12;
    while i + 8 <= b.len() {
        let size = u32::from_le_bytes([b[i + 4], b[i + 5], b[i + 6], b[i + 7]]) as usize;
        if &b[i..i + 4] == b"ANMF" {
            if let (Some(w), Some(h)) = (u24(i + 8 + 6), u24(i + 8 + 9)) {
                stats.frames += 1;
                stats.pixels += (w + 1) * (h + 1);
            }
        }
        i = i.saturating_add(8).saturating_add(size + (size & 1));
    }
    stats
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::codecs::gif::GifEncoder;
    use image::{Delay, Frame, RgbaImage};

    fn animated_gif(frames: u32, w: u32, h: u32) -> Vec<u8> {
        let mut out = Vec::new();
        {
            let mut enc = GifEncoder::new(&mut out);
            for i in 0..frames {
                let img = RgbaImage::from_pixel(w, h, image::Rgba([(i * 40) as u8, 0, 0, 255]));
                enc.encode_frame(Frame::from_parts(
                    img,
                    0,
                    0,
                    Delay::from_numer_denom_ms(100, 1),
                ))
                .unwrap();
            }
        }
        out
    }

    #[test]
    fn counts_gif_frames_and_area() {
        assert_eq!(
            count(&animated_gif(3, 20, 10), SourceFormat::Gif),
            FrameStats {
                frames: 3,
                pixels: 600
            }
        );
        assert_eq!(count(&animated_gif(1, 7, 5), SourceFormat::Gif).frames, 1);
        // The frame-bomb shape: a 32×32 screen whose frame claims 65535×10751.
        let mut bomb = b"GIF89a".to_vec();
        bomb.extend_from_slice(&[32, 0, 32, 0, 0, 0, 0]);
        bomb.extend_from_slice(&[0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x29, 0x80]);
        bomb.extend_from_slice(&[0, 0, 0, 255, 255, 255, 2, 2, 0x4c, 0x01, 0, 0x3b]);
        assert_eq!(
            count(&bomb, SourceFormat::Gif),
            FrameStats {
                frames: 1,
                pixels: 65535 * 10751
            }
        );
        // Truncation ends the count without panicking.
        let g = animated_gif(3, 20, 10);
        for cut in 0..g.len() {
            let _ = count(&g[..cut], SourceFormat::Gif);
        }
    }

    #[test]
    fn counts_webp_animation_frames() {
        let mut anmf = Vec::new();
        for (w, h) in [(100u32, 50u32), (10, 10)] {
            let mut payload = vec![0u8; 16];
            payload[6..9].copy_from_slice(&(w - 1).to_le_bytes()[..3]);
            payload[9..12].copy_from_slice(&(h - 1).to_le_bytes()[..3]);
            anmf.extend_from_slice(b"ANMF");
            anmf.extend_from_slice(&(payload.len() as u32).to_le_bytes());
            anmf.extend_from_slice(&payload);
        }
        let mut riff = b"RIFF".to_vec();
        riff.extend_from_slice(&((anmf.len() + 4) as u32).to_le_bytes());
        riff.extend_from_slice(b"WEBP");
        riff.extend_from_slice(&anmf);
        assert_eq!(
            count(&riff, SourceFormat::Webp),
            FrameStats {
                frames: 2,
                pixels: 5100
            }
        );
        assert_eq!(count(b"RIFF\0\0\0\0WEBPVP8 ", SourceFormat::Webp).frames, 0);
    }
}

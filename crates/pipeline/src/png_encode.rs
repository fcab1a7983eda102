//! PNG output: lossless, in the smallest colour type that holds the image exactly.
//!
//! Owns: PNG encoder settings and the lossless colour-type reduction. An image with at most
//! 256 distinct colours (logos, icons, flat graphics, and white or black art over alpha, which
//! resampling leaves with one colour at ~150 alpha levels) is written as a palette (with a
//! `tRNS` chunk for its alpha) at 8, 4, 2 or 1 bits per pixel; anything else as 8-bit RGB or
//! RGBA. Both decode to the same pixels as the input: this is what optipng and oxipng do, not
//! quantisation. Must not: change a pixel (`q` does not apply to PNG; see README).

use image::DynamicImage;
use png::{BitDepth, ColorType, Compression, Filter};

use crate::error::PipelineError;

/// Encodes `img` (RGB8 or RGBA8; other layouts are converted to RGBA8 first).
pub fn encode(img: &DynamicImage) -> Result<Vec<u8>, PipelineError> {
    let (w, h) = (img.width(), img.height());
    let rgba;
    let (pixels, channels) = match img {
        DynamicImage::ImageRgb8(b) => (b.as_raw().as_slice(), 3),
        DynamicImage::ImageRgba8(b) => (b.as_raw().as_slice(), 4),
        other => {
            rgba = other.to_rgba8();
            (rgba.as_raw().as_slice(), 4)
        }
    };
    match Palette::of(pixels, channels) {
        Some(palette) => palette.write(w, h),
        None => {
            let color = if channels == 4 {
                ColorType::Rgba
            } else {
                ColorType::Rgb
            };
            write(w, h, color, BitDepth::Eight, None, pixels)
        }
    }
}

/// An exact palette of an image and its pixels as indices into it.
struct Palette {
    /// RGBA entries, translucent ones first (so `tRNS` stops at the last of them).
    entries: Vec<[u8; 4]>,
    /// One index per pixel, row-major.
    indices: Vec<u8>,
}

impl Palette {
    /// The palette of `pixels` (`channels` 3 or 4 bytes each), or `None` past 256 colours.
    fn of(pixels: &[u8], channels: usize) -> Option<Palette> {
        let mut table = ColourTable::new();
        let mut indices = Vec::with_capacity(pixels.len() / channels);
        // Neighbouring pixels repeat most of the time: skip the lookup for them.
        let mut last: Option<(u32, u8)> = None;
        for p in pixels.chunks_exact(channels) {
            let alpha = if channels == 4 { p[3] } else { 255 };
            let key = u32::from_le_bytes([p[0], p[1], p[2], alpha]);
            let index = match last {
                Some((k, i)) if k == key => i,
                _ => table.index_of(key)?,
            };
            last = Some((key, index));
            indices.push(index);
        }
        // Translucent entries first, by alpha, then by colour: `tRNS` ends at the first
        // opaque entry, and similar entries get neighbouring indices.
        let mut order: Vec<u8> = (0..table.keys.len()).map(|i| i as u8).collect();
        order.sort_by_key(|&i| {
            let [r, g, b, a] = table.keys[usize::from(i)].to_le_bytes();
            (a, r, g, b)
        });
        let mut remap = [0u8; 256];
        for (new, &old) in order.iter().enumerate() {
            remap[usize::from(old)] = new as u8;
        }
        for i in &mut indices {
            *i = remap[usize::from(*i)];
        }
        let entries = order
            .iter()
            .map(|&i| table.keys[usize::from(i)].to_le_bytes())
            .collect();
        Some(Palette { entries, indices })
    }

    fn write(&self, w: u32, h: u32) -> Result<Vec<u8>, PipelineError> {
        let (bits, depth) = match self.entries.len() {
            0..=2 => (1, BitDepth::One),
            3..=4 => (2, BitDepth::Two),
            5..=16 => (4, BitDepth::Four),
            _ => (8, BitDepth::Eight),
        };
        let rgb: Vec<u8> = self
            .entries
            .iter()
            .flat_map(|e| [e[0], e[1], e[2]])
            .collect();
        let trns: Vec<u8> = self
            .entries
            .iter()
            .map(|e| e[3])
            .take_while(|&a| a < 255)
            .collect();
        let data = pack(&self.indices, w as usize, bits);
        write(w, h, ColorType::Indexed, depth, Some((rgb, trns)), &data)
    }
}

/// Colours seen so far and their palette index: open addressing over 1024 slots, which 256
/// keys leave at most a quarter full.
struct ColourTable {
    slots: Box<[(u32, u16); 1024]>,
    keys: Vec<u32>,
}

/// An empty slot's index (never a palette index).
const EMPTY: u16 = u16::MAX;

impl ColourTable {
    fn new() -> Self {
        ColourTable {
            slots: Box::new([(0, EMPTY); 1024]),
            keys: Vec::with_capacity(256),
        }
    }

    /// The index of `key`, adding it if new; `None` once a 257th colour appears.
    fn index_of(&mut self, key: u32) -> Option<u8> {
        let mut slot = (key.wrapping_mul(0x9E37_79B1) >> 22) as usize;
        loop {
            let (k, i) = self.slots[slot];
            if i == EMPTY {
                if self.keys.len() == 256 {
                    return None;
                }
                let index = self.keys.len() as u16;
                self.slots[slot] = (key, index);
                self.keys.push(key);
                return Some(index as u8);
            }
            if k == key {
                return Some(i as u8);
            }
            slot = (slot + 1) & 1023;
        }
    }
}

/// Packs 8-bit indices into rows of `bits` (1, 2, 4 or 8) bits per pixel, most significant
/// first, each row starting on a byte boundary (PNG's layout).
fn pack(indices: &[u8], width: usize, bits: u8) -> Vec<u8> {
    if bits == 8 || width == 0 {
        return indices.to_vec();
    }
    let per_byte = usize::from(8 / bits);
    let row_bytes = width.div_ceil(per_byte);
    let mut out = Vec::with_capacity(row_bytes * (indices.len() / width));
    for row in indices.chunks_exact(width) {
        for group in row.chunks(per_byte) {
            let mut byte = 0u8;
            for (k, &i) in group.iter().enumerate() {
                byte |= i << (8 - bits * (k as u8 + 1));
            }
            out.push(byte);
        }
    }
    out
}

/// Writes one PNG: `palette` is the RGB entries and their alpha (`tRNS`, may be short).
fn write(
    w: u32,
    h: u32,
    color: ColorType,
    depth: BitDepth,
    palette: Option<(Vec<u8>, Vec<u8>)>,
    data: &[u8],
) -> Result<Vec<u8>, PipelineError> {
    let fail = |e: png::EncodingError| PipelineError::Encode(format!("PNG: {e}"));
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(color);
        enc.set_depth(depth);
        // Balanced deflate with per-row adaptive filters: within a few % of Pillow's size at a
        // third of the time of the `High` level (BENCHMARKS.md). Filters pay for palettes too,
        // although indices are labels: with entries sorted by alpha, an alpha ramp is an
        // index ramp; on the benchmark's transparent art, adaptive filters gave palette files
        // 15–25% smaller than no filter (libpng's choice for palettes).
        enc.set_compression(Compression::Balanced);
        enc.set_filter(Filter::Adaptive);
        if let Some((rgb, trns)) = palette {
            enc.set_palette(rgb);
            if !trns.is_empty() {
                enc.set_trns(trns);
            }
        }
        let mut writer = enc.write_header().map_err(fail)?;
        writer.write_image_data(data).map_err(fail)?;
        writer.finish().map_err(fail)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{Rgb, RgbImage, Rgba, RgbaImage};

    fn decode(bytes: &[u8]) -> (png::ColorType, png::BitDepth, RgbaImage) {
        let dec = png::Decoder::new(std::io::Cursor::new(bytes));
        let reader = dec.read_info().unwrap();
        let info = reader.info();
        let kind = (info.color_type, info.bit_depth);
        let img = image::load_from_memory(bytes).unwrap().to_rgba8();
        (kind.0, kind.1, img)
    }

    #[test]
    fn few_colours_become_an_exact_palette_with_alpha() {
        // White art over alpha, as resampling leaves it: one colour, 150 alpha levels (in an
        // irregular pattern, so that no row filter makes the RGBA form trivial).
        let mut seed = 12345u32;
        let img = RgbaImage::from_fn(300, 40, |_, _| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            Rgba([255, 255, 255, ((seed >> 16) % 150) as u8])
        });
        let bytes = encode(&DynamicImage::ImageRgba8(img.clone())).unwrap();
        let (color, depth, back) = decode(&bytes);
        assert_eq!((color, depth), (ColorType::Indexed, BitDepth::Eight));
        assert_eq!(back, img, "every pixel survives");
        let rgba = write(
            300,
            40,
            ColorType::Rgba,
            BitDepth::Eight,
            None,
            img.as_raw(),
        )
        .unwrap();
        assert!(
            bytes.len() < rgba.len(),
            "{} vs {}",
            bytes.len(),
            rgba.len()
        );
    }

    #[test]
    fn small_palettes_pack_pixels_into_fewer_bits() {
        for (colours, want) in [
            (2u32, BitDepth::One),
            (3, BitDepth::Two),
            (11, BitDepth::Four),
        ] {
            // Odd width, so rows end mid-byte.
            let img = RgbImage::from_fn(37, 5, |x, y| {
                let c = ((x * 7 + y) % colours) as u8;
                Rgb([c * 20, 255 - c * 20, c])
            });
            let bytes = encode(&DynamicImage::ImageRgb8(img.clone())).unwrap();
            let (color, depth, back) = decode(&bytes);
            assert_eq!(
                (color, depth),
                (ColorType::Indexed, want),
                "{colours} colours"
            );
            let expect = DynamicImage::ImageRgb8(img).to_rgba8();
            assert_eq!(back, expect, "{colours} colours");
        }
    }

    #[test]
    fn many_colours_stay_truecolour() {
        let rgb = RgbImage::from_fn(64, 64, |x, y| Rgb([(x * 4) as u8, (y * 4) as u8, 7]));
        let bytes = encode(&DynamicImage::ImageRgb8(rgb.clone())).unwrap();
        let (color, _, back) = decode(&bytes);
        assert_eq!(color, ColorType::Rgb);
        assert_eq!(back, DynamicImage::ImageRgb8(rgb).to_rgba8());
        // 257 colours: one past the palette.
        let rgba = RgbaImage::from_fn(257, 3, |x, _| Rgba([x as u8, (x >> 8) as u8, 0, 200]));
        let bytes = encode(&DynamicImage::ImageRgba8(rgba.clone())).unwrap();
        let (color, _, back) = decode(&bytes);
        assert_eq!(color, ColorType::Rgba);
        assert_eq!(back, rgba);
    }

    #[test]
    fn exactly_256_colours_fit_and_opaque_entries_carry_no_alpha() {
        // 200 translucent + 56 opaque colours.
        let img = RgbaImage::from_fn(256, 2, |x, _| {
            if x < 200 {
                Rgba([9, 9, 9, x as u8])
            } else {
                Rgba([x as u8, 0, 0, 255])
            }
        });
        let bytes = encode(&DynamicImage::ImageRgba8(img.clone())).unwrap();
        let dec = png::Decoder::new(std::io::Cursor::new(&bytes));
        let reader = dec.read_info().unwrap();
        let info = reader.info();
        assert_eq!(info.color_type, ColorType::Indexed);
        assert_eq!(info.trns.as_ref().map(|t| t.len()), Some(200));
        assert_eq!(decode(&bytes).2, img);
    }
}

//! The 1/8 decoder against libjpeg's own 1/8 decode of the same files, and the files it
//! must leave to libjpeg.

use image::{DynamicImage, RgbImage};
use jpeg_encoder::{ColorType, Encoder, SamplingFactor};
use proptest::prelude::*;

use super::decode;
use crate::shrink::libjpeg_scaled;

/// A photo-like test card: smooth gradients, hard coloured edges and per-pixel noise (so
/// that blocks have many AC coefficients, long codes and large magnitudes).
fn card(w: u32, h: u32) -> RgbImage {
    let mut seed = 0x2545_f491_u32;
    RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let noise = (seed % 48) as i32 - 24;
        let base = if (x / 37 + y / 23) % 3 == 0 {
            [230, 40, 60]
        } else {
            [
                (x * 255 / w) as i32,
                (y * 255 / h) as i32,
                ((x + y) % 256) as i32,
            ]
        };
        image::Rgb(base.map(|v| (v + noise).clamp(0, 255) as u8))
    })
}

struct Options {
    quality: u8,
    sampling: SamplingFactor,
    restart: u16,
    optimized: bool,
    grey: bool,
}

fn encode(img: &RgbImage, o: Options) -> Vec<u8> {
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, o.quality);
    e.set_sampling_factor(o.sampling);
    e.set_restart_interval(o.restart);
    e.set_optimized_huffman_tables(o.optimized);
    let (w, h) = (img.width() as u16, img.height() as u16);
    if o.grey {
        let grey = DynamicImage::ImageRgb8(img.clone()).into_luma8();
        e.encode(grey.as_raw(), w, h, ColorType::Luma).unwrap();
    } else {
        e.encode(img.as_raw(), w, h, ColorType::Rgb).unwrap();
    }
    out
}

/// Decodes with both decoders and checks sizes and pixels (±2 per channel, a mean error
/// well under 1: the two use different float/fixed-point IDCTs for chroma).
fn matches_libjpeg(bytes: &[u8]) {
    let (ours, _) = decode(bytes, (1, 1)).expect("taken by the 1/8 decoder");
    let (theirs, _) = libjpeg_scaled(bytes, (1, 1)).unwrap();
    let theirs = theirs.into_rgb8();
    assert_eq!(ours.dimensions(), theirs.dimensions());
    let (mut worst, mut sum) = (0i32, 0i64);
    for (a, b) in ours.as_raw().iter().zip(theirs.as_raw()) {
        let d = (i32::from(*a) - i32::from(*b)).abs();
        worst = worst.max(d);
        sum += i64::from(d);
    }
    let mean = sum as f64 / ours.as_raw().len() as f64;
    assert!(worst <= 2 && mean < 0.2, "max {worst}, mean {mean}");
}

#[test]
fn matches_libjpeg_for_420_444_grey_and_restarts() {
    let img = card(419, 301);
    for (sampling, grey) in [
        (SamplingFactor::F_2_2, false),
        (SamplingFactor::F_1_1, false),
        (SamplingFactor::F_1_1, true),
    ] {
        for (quality, restart) in [(95, 0), (60, 7), (30, 1)] {
            let o = Options {
                quality,
                sampling: match sampling {
                    SamplingFactor::F_2_2 => SamplingFactor::F_2_2,
                    _ => SamplingFactor::F_1_1,
                },
                restart,
                optimized: false,
                grey,
            };
            matches_libjpeg(&encode(&img, o));
        }
    }
}

/// imgd's own JPEG output: optimised Huffman tables (codes of every length), 4:2:0.
#[test]
fn matches_libjpeg_with_optimised_tables() {
    let img = DynamicImage::ImageRgb8(card(523, 389));
    for q in [98, 75, 20] {
        let bytes = crate::encode::encode(&img, imgd_url::OutputFormat::Jpeg, Some(q)).unwrap();
        matches_libjpeg(&bytes);
    }
}

#[test]
fn sizes_round_up_like_libjpeg() {
    for (w, h) in [(1, 1), (8, 8), (9, 17), (16, 15), (33, 7)] {
        let o = Options {
            quality: 80,
            sampling: SamplingFactor::F_2_2,
            restart: 0,
            optimized: false,
            grey: false,
        };
        let bytes = encode(&card(w, h), o);
        let (img, _) = decode(&bytes, (1, 1)).unwrap();
        assert_eq!(img.dimensions(), (w.div_ceil(8), h.div_ceil(8)));
        matches_libjpeg(&bytes);
    }
}

#[test]
fn leaves_other_files_to_libjpeg() {
    let img = card(64, 64);
    let base = || Options {
        quality: 80,
        sampling: SamplingFactor::F_2_2,
        restart: 0,
        optimized: false,
        grey: false,
    };
    let ok = encode(&img, base());
    assert!(decode(&ok, (8, 8)).is_some());
    assert!(
        decode(&ok, (9, 8)).is_none(),
        "1/8 would not cover the need"
    );
    let subsampled_422 = encode(
        &img,
        Options {
            sampling: SamplingFactor::F_2_1,
            ..base()
        },
    );
    assert!(decode(&subsampled_422, (1, 1)).is_none());
    // jpeg-encoder writes one scan per component when it optimises its tables.
    let one_scan_each = encode(
        &img,
        Options {
            optimized: true,
            ..base()
        },
    );
    assert!(decode(&one_scan_each, (1, 1)).is_none());
    let mut progressive = Vec::new();
    let mut e = Encoder::new(&mut progressive, 80);
    e.set_progressive(true);
    e.encode(img.as_raw(), 64, 64, ColorType::Rgb).unwrap();
    assert!(decode(&progressive, (1, 1)).is_none());
    assert!(decode(&ok[..ok.len() / 2], (1, 1)).is_none(), "truncated");
    assert!(decode(b"\xFF\xD8\xFF", (1, 1)).is_none());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]
    /// Corrupted files never panic; whatever is decoded has the size its (possibly corrupted)
    /// header declares, at 1/8.
    #[test]
    fn corrupt_data_is_refused_or_decoded(at in 0usize..4000, byte in any::<u8>(), len in 0usize..4000) {
        let o = Options { quality: 70, sampling: SamplingFactor::F_2_2, restart: 3, optimized: false, grey: false };
        let mut bytes = encode(&card(80, 48), o);
        let at = at % bytes.len();
        bytes[at] = byte;
        bytes.truncate(bytes.len().min(len.max(at + 1)));
        if let Some((img, _)) = decode(&bytes, (1, 1)) {
            let h = super::markers::header(&bytes).expect("decoded, so the header was read");
            prop_assert_eq!(img.dimensions(), (h.width.div_ceil(8), h.height.div_ceil(8)));
        }
    }
}

#[test]
fn hands_over_the_icc_profile() {
    // Long enough to span two APP2 chunks.
    let profile: Vec<u8> = (0..70_000u32).map(|i| (i % 251) as u8).collect();
    let mut out = Vec::new();
    let mut e = Encoder::new(&mut out, 80);
    e.set_sampling_factor(SamplingFactor::F_2_2);
    e.add_icc_profile(&profile).unwrap();
    e.encode(card(64, 64).as_raw(), 64, 64, ColorType::Rgb)
        .unwrap();
    assert!(decode(&out, (8, 8)).is_some(), "taken by the 1/8 decoder");
    let (img, icc) = crate::shrink::decode_scaled(&out, (8, 8)).unwrap();
    assert_eq!((img.width(), img.height()), (8, 8));
    assert_eq!(icc, Some(profile));
}

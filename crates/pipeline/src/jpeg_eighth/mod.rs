//! A JPEG decoded straight to 1/8 scale: one pixel per 8×8 block (two by two for the
//! chroma of 4:2:0), for the common case of a large baseline photo shrunk to a thumbnail.
//!
//! Owns: the MCU walk of one interleaved baseline scan. Must not: decide when 1/8 is the
//! right scale (`shrink` does) or handle anything unusual: progressive files, CMYK/Adobe,
//! 4:2:2 and other samplings, 12-bit, corrupt or truncated data all return `None`, and
//! libjpeg decodes them as before. The output matches libjpeg's 1/8 decode within ±1 (see
//! `pixels`), so which decoder ran does not show.
//!
//! Why: at 1/8 scale libjpeg spends ~85% of its time walking AC coefficients it then throws
//! away. Here they are skipped with a multi-symbol table over a bit reader that refills with
//! one load (`huffman`), which is what makes large JPEG → thumbnail faster than libjpeg/Pillow.

mod huffman;
mod markers;
mod pixels;

use image::RgbImage;

use huffman::{extend, Bits, Decoder, SkipTable};
use markers::header;
use pixels::{dc_pixel, ycc_to_rgb, Reduce2x2};

/// The image at 1/8 scale (`ceil(w/8)` × `ceil(h/8)`, as libjpeg sizes it) and the file's
/// APP2 payloads (for its ICC profile); `None` when this decoder does not take the file or
/// 1/8 scale would be smaller than `need`.
pub fn decode(bytes: &[u8], need: (u32, u32)) -> Option<(RgbImage, Vec<&[u8]>)> {
    let h = header(bytes)?;
    let (ow, oh) = (h.width.div_ceil(8), h.height.div_ceil(8));
    if ow < need.0 || oh < need.1 {
        return None;
    }
    let tables = |specs: &[Option<markers::HuffSpec>; 4],
                  pick: fn(&markers::Component) -> usize| {
        h.components
            .iter()
            .map(|c| Decoder::new(specs.get(pick(c))?.as_ref()?))
            .collect::<Option<Vec<_>>>()
    };
    let dc = tables(&h.dc, |c| c.dc_table)?;
    let ac = tables(&h.ac, |c| c.ac_table)?;
    // One component is never interleaved: an MCU is one block whatever its sampling.
    let (hs, vs) = if h.components.len() == 1 {
        (1, 1)
    } else {
        (u32::from(h.components[0].h), u32::from(h.components[0].v))
    };
    // Chroma of 4:2:0 needs some AC values (see `chroma_2x2`); every other block is skipped.
    let skip: Vec<SkipTable> = ac
        .iter()
        .take(if hs == 1 { 3 } else { 1 })
        .map(SkipTable::new)
        .collect();
    let (mcus_x, mcus_y) = (h.width.div_ceil(8 * hs), h.height.div_ceil(8 * vs));
    // Planes padded to whole MCUs; chroma is at luma's resolution (2×2 per block for 4:2:0).
    let stride = (mcus_x * hs) as usize;
    let rows = (mcus_y * vs) as usize;
    let mut planes = vec![vec![0u8; stride * rows]; h.components.len()];
    let reduce: Vec<Reduce2x2> = h
        .components
        .iter()
        .map(|c| Reduce2x2::new(&c.quant))
        .collect();
    let mut bits = Bits::new(h.scan_data);
    let mut pred = [0i32; 3];
    for my in 0..mcus_y {
        for mx in 0..mcus_x {
            let index = my * mcus_x + mx;
            if h.restart_interval > 0 && index > 0 && index % u32::from(h.restart_interval) == 0 {
                // Corrupt data or a missing marker: let libjpeg resynchronise.
                bits.restart()?;
                pred = [0; 3];
            }
            let (x0, y0) = ((mx * hs) as usize, (my * vs) as usize);
            // Luma (or grey): DC → one pixel per block, AC skipped.
            let q0 = h.components[0].quant[0];
            for by in 0..vs as usize {
                for bx in 0..hs as usize {
                    pred[0] += dc_diff(&mut bits, &dc[0])?;
                    planes[0][(y0 + by) * stride + x0 + bx] = dc_pixel(pred[0], q0);
                    skip[0].skip_block(&mut bits, &ac[0])?;
                }
            }
            for c in 1..h.components.len() {
                let comp = &h.components[c];
                pred[c] += dc_diff(&mut bits, &dc[c])?;
                let plane = &mut planes[c];
                if hs == 1 {
                    plane[y0 * stride + x0] = dc_pixel(pred[c], comp.quant[0]);
                    skip.get(c)?.skip_block(&mut bits, &ac[c])?;
                    continue;
                }
                let px = chroma_2x2(&mut bits, &ac[c], &reduce[c], pred[c])?;
                plane[y0 * stride + x0] = px[0];
                plane[y0 * stride + x0 + 1] = px[1];
                plane[(y0 + 1) * stride + x0] = px[2];
                plane[(y0 + 1) * stride + x0 + 1] = px[3];
            }
        }
    }
    if !bits.ended_cleanly() {
        // Truncated: libjpeg pads such files in its own way; leave them to it.
        return None;
    }
    let mut out = Vec::with_capacity(ow as usize * oh as usize * 3);
    for y in 0..oh as usize {
        let row = y * stride..y * stride + ow as usize;
        match planes.as_slice() {
            [grey] => grey[row]
                .iter()
                .for_each(|&v| out.extend_from_slice(&[v; 3])),
            [l, cb, cr] => {
                for ((&l, &cb), &cr) in l[row.clone()].iter().zip(&cb[row.clone()]).zip(&cr[row]) {
                    out.extend_from_slice(&ycc_to_rgb(l, cb, cr));
                }
            }
            _ => return None,
        }
    }
    Some((RgbImage::from_raw(ow, oh, out)?, h.app2))
}

/// A DC difference: its size category, then that many magnitude bits.
#[inline(always)]
fn dc_diff(bits: &mut Bits, d: &Decoder) -> Option<i32> {
    bits.ensure()?;
    let (size, len) = d.decode(bits)?;
    bits.consume(len);
    let size = u32::from(size);
    if size > 11 {
        return None;
    }
    Some(extend(bits.take(size), size))
}

/// A 4:2:0 chroma block's 2×2 pixels: every AC coefficient is decoded (the reduction reads
/// some from each row and column) and folded into the reduction as it comes. Inlined so that
/// the bit buffer stays in registers (as a call, it went through memory at every symbol).
#[inline(always)]
fn chroma_2x2(bits: &mut Bits, d: &Decoder, reduce: &Reduce2x2, dc: i32) -> Option<[u8; 4]> {
    let mut sums = reduce.start(dc);
    let mut k = 1usize;
    while k < 64 {
        bits.ensure()?;
        let (sym, len) = d.decode(bits)?;
        bits.consume(len);
        let (run, size) = (usize::from(sym >> 4), u32::from(sym & 15));
        if size == 0 {
            if run != 15 {
                break;
            }
            k += 16;
            continue;
        }
        k += run;
        let v = extend(bits.take(size), size);
        // Past 63 only in corrupt data: dropped, as before this decoder folded values in.
        if k < 64 {
            reduce.add(&mut sums, k, v);
        }
        k += 1;
    }
    Some(Reduce2x2::pixels(sums))
}

#[cfg(test)]
mod tests;

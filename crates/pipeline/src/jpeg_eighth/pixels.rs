//! From coefficients to 1/8-scale pixels: a block's DC as one pixel, a subsampled chroma
//! block as 2×2 pixels (the reduced IDCT), and YCbCr → RGB.
//!
//! Owns: the arithmetic, chosen to match libjpeg's scaled decoding (same rounding of the DC,
//! the same 2×2 reduction, JFIF's colour matrix in 16-bit fixed point), so that switching
//! decoders changes no output beyond ±1. Must not: read bits.

/// Natural-order positions the 2×2 reduction reads: rows and columns 0, 1, 3, 5, 7 (the even
/// frequencies average out over four pixels).
pub const USED: [bool; 64] = {
    let mut used = [false; 64];
    let keep = [0, 1, 3, 5, 7];
    let mut r = 0;
    while r < 5 {
        let mut c = 0;
        while c < 5 {
            used[keep[r] * 8 + keep[c]] = true;
            c += 1;
        }
        r += 1;
    }
    used
};

/// The pixel of a block from its DC alone: the 1×1 IDCT, rounded as libjpeg rounds it.
#[inline(always)]
pub fn dc_pixel(dc: i32, q: u16) -> u8 {
    clamp(((dc * i32::from(q) + 4) >> 3) + 128)
}

/// Weight of odd frequency u (1, 3, 5, 7) in the mean of the first four of eight IDCT
/// outputs, relative to the DC's: √2 · Σₓ₌₀..₃ cos((2x+1)uπ/16) / 4.
const ODD: [f32; 4] = [0.906_127_1, -0.318_189_65, 0.212_607_5, -0.180_239_96];
const ODD_AT: [usize; 4] = [1, 3, 5, 7];

/// The 2×2 pixels of a block (row-major) from its coefficients in natural order, dequantised
/// by `q`. Only `USED` positions are read.
pub fn reduce_2x2(coef: &[i32; 64], q: &[u16; 64]) -> [u8; 4] {
    let f = |i: usize| (coef[i] * i32::from(q[i])) as f32;
    // Rows first: for rows 0, 1, 3, 5, 7, the left and right halves' means.
    let mut left = [0f32; 8];
    let mut right = [0f32; 8];
    for r in [0, 1, 3, 5, 7] {
        let even = f(r * 8);
        let odd: f32 = ODD_AT.iter().zip(ODD).map(|(&u, w)| w * f(r * 8 + u)).sum();
        left[r] = even + odd;
        right[r] = even - odd;
    }
    let column = |c: &[f32; 8]| {
        let odd: f32 = ODD_AT.iter().zip(ODD).map(|(&v, w)| w * c[v]).sum();
        (c[0] + odd, c[0] - odd)
    };
    let (tl, bl) = column(&left);
    let (tr, br) = column(&right);
    let px = |v: f32| clamp((v / 8.0).round() as i32 + 128);
    [px(tl), px(tr), px(bl), px(br)]
}

/// JFIF YCbCr → RGB in 16-bit fixed point, rounded as libjpeg's tables are.
#[inline(always)]
pub fn ycc_to_rgb(y: u8, cb: u8, cr: u8) -> [u8; 3] {
    const HALF: i32 = 1 << 15;
    let (y, cb, cr) = (i32::from(y), i32::from(cb) - 128, i32::from(cr) - 128);
    [
        clamp(y + ((91_881 * cr + HALF) >> 16)),
        clamp(y + ((-22_554 * cb - 46_802 * cr + HALF) >> 16)),
        clamp(y + ((116_130 * cb + HALF) >> 16)),
    ]
}

#[inline(always)]
fn clamp(v: i32) -> u8 {
    v.clamp(0, 255) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The 2×2 reduction equals the mean of each quadrant of the full 8×8 IDCT.
    #[test]
    fn reduction_is_the_quadrant_mean_of_the_full_idct() {
        let mut coef = [0i32; 64];
        let q = [1u16; 64];
        for (i, c) in coef.iter_mut().enumerate() {
            if USED[i] {
                *c = ((i as i32 * 37) % 41) - 20;
            }
        }
        coef[0] = 100;
        let full = |x: usize, y: usize| {
            let cu = |u: usize| if u == 0 { 1.0 / 2f64.sqrt() } else { 1.0 };
            let mut s = 0.0;
            for v in 0..8 {
                for u in 0..8 {
                    let basis = ((2 * x + 1) as f64 * u as f64 * std::f64::consts::PI / 16.0).cos()
                        * ((2 * y + 1) as f64 * v as f64 * std::f64::consts::PI / 16.0).cos();
                    s += cu(u) * cu(v) * f64::from(coef[v * 8 + u]) * basis;
                }
            }
            s / 4.0
        };
        let mean = |x0: usize, y0: usize| {
            let mut s = 0.0;
            for y in y0..y0 + 4 {
                for x in x0..x0 + 4 {
                    s += full(x, y);
                }
            }
            (s / 16.0).round() as i32 + 128
        };
        let want = [mean(0, 0), mean(4, 0), mean(0, 4), mean(4, 4)];
        let got = reduce_2x2(&coef, &q).map(i32::from);
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() <= 1, "{got:?} vs {want:?}");
        }
    }

    #[test]
    fn dc_and_colour_round_like_libjpeg() {
        assert_eq!(dc_pixel(0, 16), 128);
        assert_eq!(dc_pixel(-64, 16), 0);
        assert_eq!(dc_pixel(10, 3), 132, "30/8 = 3.75 rounds to 4");
        assert_eq!(ycc_to_rgb(128, 128, 128), [128, 128, 128]);
        assert_eq!(ycc_to_rgb(76, 85, 255), [254, 0, 0]);
        assert_eq!(ycc_to_rgb(255, 0, 0), [76, 255, 28]);
    }
}

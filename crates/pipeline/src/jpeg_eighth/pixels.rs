//! From coefficients to 1/8-scale pixels: a block's DC as one pixel, a subsampled chroma
//! block as 2×2 pixels (the reduced IDCT), and YCbCr → RGB.
//!
//! Owns: the arithmetic, chosen to match libjpeg's scaled decoding (same rounding of the DC,
//! the same 2×2 reduction, JFIF's colour matrix in 16-bit fixed point), so that switching
//! decoders changes no output beyond ±1. Must not: read bits.

use super::markers::ZIGZAG;

/// The pixel of a block from its DC alone: the 1×1 IDCT, rounded as libjpeg rounds it.
#[inline(always)]
pub fn dc_pixel(dc: i32, q: u16) -> u8 {
    clamp(((dc * i32::from(q) + 4) >> 3) + 128)
}

/// Weight of odd frequency u (1, 3, 5, 7) in the mean of the first four of eight IDCT
/// outputs, relative to the DC's: √2 · Σₓ₌₀..₃ cos((2x+1)uπ/16) / 4.
const ODD: [f32; 4] = [0.906_127_1, -0.318_189_65, 0.212_607_5, -0.180_239_96];

/// The 2×2 reduced IDCT of one chroma component, folded into a table so that each AC
/// coefficient is one multiply-add as it is decoded (no coefficient block, no second pass).
///
/// A pixel of the 2×2 output is the mean of a 4×4 quadrant of the full IDCT. Even frequencies
/// other than 0 average out over a quadrant, so only rows and columns 0, 1, 3, 5, 7 count, and
/// each such coefficient adds `W(u)·W(v)·q·c` to one of four sums by the parity of (u, v):
/// the four pixels are those sums with the odd terms' signs flipped for the right column
/// (odd u) and the bottom row (odd v).
pub struct Reduce2x2 {
    /// By zig-zag index: the dequantised weight (0 where the reduction ignores the position).
    weight: [f32; 64],
    /// By zig-zag index: the sum it feeds, `(u odd) | (v odd) << 1`.
    sum: [u8; 64],
}

impl Reduce2x2 {
    /// The table for a component quantised by `q` (natural order).
    pub fn new(q: &[u16; 64]) -> Self {
        let w = |f: usize| match f {
            0 => Some(1.0),
            1 | 3 | 5 | 7 => Some(ODD[f / 2]),
            _ => None,
        };
        let mut weight = [0f32; 64];
        let mut sum = [0u8; 64];
        for (k, &n) in ZIGZAG.iter().enumerate() {
            let (v, u) = (usize::from(n) / 8, usize::from(n) % 8);
            if let (Some(wu), Some(wv)) = (w(u), w(v)) {
                weight[k] = wu * wv * f32::from(q[usize::from(n)]);
                sum[k] = u8::from(u % 2 == 1) | u8::from(v % 2 == 1) << 1;
            }
        }
        Reduce2x2 { weight, sum }
    }

    /// The four sums of a block whose DC (undequantised) is `dc`, before any AC value.
    #[inline(always)]
    pub fn start(&self, dc: i32) -> [f32; 4] {
        [self.weight[0] * dc as f32, 0.0, 0.0, 0.0]
    }

    /// Adds the coefficient `value` at zig-zag index `k` (< 64).
    #[inline(always)]
    pub fn add(&self, sums: &mut [f32; 4], k: usize, value: i32) {
        sums[usize::from(self.sum[k] & 3)] += self.weight[k] * value as f32;
    }

    /// The 2×2 pixels (row-major) from the sums.
    #[inline(always)]
    pub fn pixels(sums: [f32; 4]) -> [u8; 4] {
        let [e, u, v, uv] = sums;
        // Rounded to nearest as the 8-point IDCT's output (÷8, +128). Truncating after adding
        // 128.5 is floor for every value that survives the clamp, and avoids a libm call.
        let px = |s: f32| clamp((s * 0.125 + 128.5) as i32);
        [
            px(e + u + v + uv),
            px(e - u + v - uv),
            px(e + u - v - uv),
            px(e - u - v + uv),
        ]
    }
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
            *c = ((i as i32 * 37) % 41) - 20;
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
        let table = Reduce2x2::new(&q);
        let mut sums = table.start(coef[0]);
        for (k, &n) in ZIGZAG.iter().enumerate().skip(1) {
            table.add(&mut sums, k, coef[usize::from(n)]);
        }
        let got = Reduce2x2::pixels(sums).map(i32::from);
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

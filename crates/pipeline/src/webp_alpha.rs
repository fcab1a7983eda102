//! A replacement for libwebp's `WebPDispatchAlpha`, the kernel that copies a decoded alpha
//! plane into every fourth byte of an RGBA row.
//!
//! Owns: installing it once, before the first decode. Must not: change what is decoded.
//!
//! Why: libwebp's SSE2 version writes with `maskmovdqu`, a non-temporal masked store. It was
//! 8.6% of the time of an alpha WebP → WebP resize (the benchmark's workload A) on its own, and
//! being non-temporal it also pushes the rows it writes out of the cache, right before the
//! resizer reads them. libwebp selects its DSP kernels through function pointers set once
//! (`WebPInitAlphaProcessing`, which never runs its body twice); overwriting this pointer after
//! that first run is the supported way its own CPU-specific variants are installed.

use std::os::raw::c_int;
use std::sync::Once;

type Dispatch = unsafe extern "C" fn(*const u8, c_int, c_int, c_int, *mut u8, c_int) -> c_int;

unsafe extern "C" {
    fn WebPInitAlphaProcessing();
    static mut WebPDispatchAlpha: Option<Dispatch>;
}

static INSTALL: Once = Once::new();

/// Installs `dispatch_alpha` in libwebp; cheap after the first call.
pub fn install() {
    INSTALL.call_once(|| {
        // SAFETY: libwebp's init sets its kernel pointers under its own lock and only once;
        // after it the pointer is ours to set. No decode has started yet (this runs before
        // the first one, and `Once` blocks other callers until it is done).
        unsafe {
            WebPInitAlphaProcessing();
            WebPDispatchAlpha = Some(dispatch_alpha);
        }
    });
}

/// libwebp's contract: copy `height` rows of `width` alpha bytes (rows `alpha_stride` apart)
/// to `dst[4 * i]` of rows `dst_stride` apart; return non-zero when any alpha is below 255.
///
/// # Safety
/// The pointers and strides must describe valid rows, as libwebp's decoder passes them.
unsafe extern "C" fn dispatch_alpha(
    alpha: *const u8,
    alpha_stride: c_int,
    width: c_int,
    height: c_int,
    dst: *mut u8,
    dst_stride: c_int,
) -> c_int {
    let mut all = u8::MAX;
    let width = usize::try_from(width).unwrap_or(0);
    for j in 0..isize::try_from(height).unwrap_or(0) {
        // SAFETY: per the contract, row j of `alpha` holds `width` bytes and row j of `dst`
        // holds at least `4 * (width - 1) + 1`; the two never overlap.
        unsafe {
            let a = alpha.offset(j * alpha_stride as isize);
            let d = dst.offset(j * dst_stride as isize);
            for i in 0..width {
                let v = *a.add(i);
                *d.add(4 * i) = v;
                all &= v;
            }
        }
    }
    c_int::from(all != u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_alpha_into_every_fourth_byte() {
        let alpha = [1u8, 2, 3, 9, 255, 255, 255, 9];
        let mut dst = [7u8; 2 * 16];
        // Two rows of 3 pixels; strides 4 and 16 (padding left untouched).
        let r = unsafe { dispatch_alpha(alpha.as_ptr(), 4, 3, 2, dst.as_mut_ptr().add(3), 16) };
        assert_eq!(r, 1, "not all opaque");
        assert_eq!([dst[3], dst[7], dst[11], dst[15]], [1, 2, 3, 7]);
        assert_eq!([dst[19], dst[23], dst[27], dst[31]], [255, 255, 255, 7]);
        assert_eq!(dst[0..3], [7, 7, 7]);
        let r = unsafe { dispatch_alpha(alpha.as_ptr().add(4), 0, 3, 1, dst.as_mut_ptr(), 0) };
        assert_eq!(r, 0, "all opaque");
    }

    #[test]
    fn is_the_kernel_libwebp_uses() {
        install();
        let installed = unsafe { WebPDispatchAlpha };
        let ours: Dispatch = dispatch_alpha;
        assert_eq!(installed.map(|f| f as usize), Some(ours as usize));
    }
}

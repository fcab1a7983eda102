//! Geometry, decided from the header alone: which region of the (oriented) source to keep,
//! what size it becomes, and whether it sits on a padded canvas.
//!
//! Owns: the meaning of `w`, `h`, `dpr`, `func`, `org_if_sml`, `fit_enlarge`, `gravity`,
//! `tl_px`/`br_px` and `ar`. Must not: touch pixels. Because the plan exists before decoding,
//! a decoder may produce a smaller image (shrink-on-load) and the steps scale the region.

use imgd_url::{AspectRatio, Func, Gravity, TransformSpec};

use crate::error::PipelineError;

/// A rectangle in source pixels (fractional: crops of a scaled decode stay exact).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Region {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

/// The padded canvas of `func=fit`: the scaled image is placed at (`x`, `y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    pub width: u32,
    pub height: u32,
    pub x: u32,
    pub y: u32,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    /// Part of the oriented source that is kept.
    pub region: Region,
    /// Size the region is resized to.
    pub scaled: (u32, u32),
    pub canvas: Option<Canvas>,
}

impl Plan {
    /// Output size before rotation.
    pub fn output_size(&self) -> (u32, u32) {
        match self.canvas {
            Some(c) => (c.width, c.height),
            None => self.scaled,
        }
    }

    /// Whether the region is the whole source at its own size (nothing to resample).
    pub fn is_identity(&self, width: u32, height: u32) -> bool {
        self.region
            == (Region {
                x: 0.0,
                y: 0.0,
                w: f64::from(width),
                h: f64::from(height),
            })
            && self.scaled == (width, height)
            && self.canvas.is_none()
    }
}

/// Plans `spec` for an oriented source of `width`×`height`, refusing outputs with a side over
/// `max_side`.
pub fn plan(
    spec: &TransformSpec,
    width: u32,
    height: u32,
    max_side: u32,
) -> Result<Plan, PipelineError> {
    let (sw, sh) = (f64::from(width), f64::from(height));
    let mut region = positionable_crop(spec, width, height)?;
    let dpr = spec.dpr.map_or(1.0, |d| d.as_f64());
    let mut tw = spec.width.map(|w| f64::from(w) * dpr);
    let mut th = spec.height.map(|h| f64::from(h) * dpr);

    match (spec.aspect_ratio, tw, th) {
        (Some(_), Some(_), Some(_)) | (None, _, _) => {}
        (Some(ar), Some(w), None) => th = Some(w / ratio_for(ar, region)),
        (Some(ar), None, Some(h)) => tw = Some(h * ratio_for(ar, region)),
        (Some(ar), None, None) => {
            let r = ratio_for(ar, region);
            if (region.w / region.h - r).abs() > 1e-9 {
                let (cw, ch) = if region.w / region.h > r {
                    (region.h * r, region.h)
                } else {
                    (region.w, region.w / r)
                };
                region = place(region, cw, ch, spec.gravity, sw, sh);
            }
        }
    }

    let func = match spec.func {
        Some(f) => Some(f),
        None if tw.is_some() && th.is_some() => Some(Func::Crop),
        None => None,
    };
    let (rw, rh) = (region.w, region.h);
    let mut canvas = None;
    let scaled: (f64, f64) = match (tw, th) {
        (None, None) => (rw, rh),
        (Some(w), None) => proportional((w, rw), rw, rh, spec.org_if_sml),
        (None, Some(h)) => proportional((h, rh), rw, rh, spec.org_if_sml),
        (Some(w), Some(h)) => {
            let func = match func {
                Some(Func::CropFit) if rw >= w && rh >= h => Func::Crop,
                Some(Func::CropFit) => Func::Fit,
                Some(f) => f,
                None => Func::Crop,
            };
            match func {
                Func::Crop | Func::Face | Func::CropFit => {
                    let mut s = (w / rw).max(h / rh);
                    if spec.org_if_sml && s > 1.0 {
                        s = 1.0;
                    }
                    let (ow, oh) = ((rw * s).min(w), (rh * s).min(h));
                    region = place(region, ow / s, oh / s, spec.gravity, sw, sh);
                    (ow, oh)
                }
                Func::Fit => {
                    let mut s = (w / rw).min(h / rh);
                    if s > 1.0 && !spec.fit_enlarge {
                        s = 1.0;
                    }
                    let (iw, ih) = (round_side(rw * s), round_side(rh * s));
                    let (cw, ch) = (round_side(w), round_side(h));
                    let (ax, ay) = spec.gravity.and_then(Gravity::anchor).unwrap_or((0.5, 0.5));
                    canvas = Some(Canvas {
                        width: cw,
                        height: ch,
                        x: (f64::from(cw.saturating_sub(iw)) * ax).round() as u32,
                        y: (f64::from(ch.saturating_sub(ih)) * ay).round() as u32,
                    });
                    (rw * s, rh * s)
                }
                Func::Bound | Func::BoundMin => {
                    // Bound fits inside the box, BoundMin covers it: pick the side that rules.
                    let width_rules = (w / rw < h / rh) == (func == Func::Bound);
                    let ratio = if width_rules { (w, rw) } else { (h, rh) };
                    proportional(ratio, rw, rh, spec.org_if_sml)
                }
                Func::Cover if spec.org_if_sml => (w.min(rw), h.min(rh)),
                Func::Cover => (w, h),
            }
        }
    };
    let scaled = (round_side(scaled.0), round_side(scaled.1));
    let out = canvas.map_or(scaled, |c| (c.width, c.height));
    if out.0 > max_side || out.1 > max_side {
        return Err(PipelineError::OutputTooLarge {
            width: out.0.into(),
            height: out.1.into(),
            limit: max_side,
        });
    }
    Ok(Plan {
        region,
        scaled,
        canvas,
    })
}

/// Scales `rw`×`rh` by `num / den`, multiplying before dividing so that exact halves stay
/// exact (600·55/1200 is 27.5, where 600·(55/1200) is 27.4999…).
fn proportional((num, den): (f64, f64), rw: f64, rh: f64, org_if_sml: bool) -> (f64, f64) {
    if org_if_sml && num > den {
        return (rw, rh);
    }
    (rw * num / den, rh * num / den)
}

fn round_side(v: f64) -> u32 {
    // Saturates for absurd values; the max-side check then rejects them.
    (v.round().max(1.0)).min(f64::from(u32::MAX)) as u32
}

/// The target ratio: a fixed one, or the region's own ratio clamped into a range.
fn ratio_for(ar: AspectRatio, region: Region) -> f64 {
    match ar {
        AspectRatio::Fixed(r) => f64::from(r) / AspectRatio::SCALE,
        AspectRatio::Range(lo, hi) => (region.w / region.h).clamp(
            f64::from(lo) / AspectRatio::SCALE,
            f64::from(hi) / AspectRatio::SCALE,
        ),
    }
}

/// `tl_px`/`br_px`, clamped to the image. One corner alone crops to the opposite corner.
fn positionable_crop(
    spec: &TransformSpec,
    width: u32,
    height: u32,
) -> Result<Region, PipelineError> {
    let (x1, y1) = spec
        .top_left
        .map_or((0, 0), |p| (p.x.min(width), p.y.min(height)));
    let (x2, y2) = spec
        .bottom_right
        .map_or((width, height), |p| (p.x.min(width), p.y.min(height)));
    if x2 <= x1 || y2 <= y1 {
        return Err(PipelineError::EmptyCrop { width, height });
    }
    Ok(Region {
        x: f64::from(x1),
        y: f64::from(y1),
        w: f64::from(x2 - x1),
        h: f64::from(y2 - y1),
    })
}

/// A `cw`×`ch` window inside `within`, positioned by gravity (compass anchor or focal point,
/// whose coordinates refer to the whole `sw`×`sh` source).
fn place(within: Region, cw: f64, ch: f64, gravity: Option<Gravity>, sw: f64, sh: f64) -> Region {
    let (cw, ch) = (cw.min(within.w), ch.min(within.h));
    let (fx, fy) = match gravity {
        Some(Gravity::FocalPx(p)) => (Some(f64::from(p.x)), Some(f64::from(p.y))),
        Some(Gravity::FocalPercent { x, y }) => {
            (Some(sw * x.as_f64() / 100.0), Some(sh * y.as_f64() / 100.0))
        }
        _ => (None, None),
    };
    let (ax, ay) = gravity.and_then(Gravity::anchor).unwrap_or((0.5, 0.5));
    let x = match fx {
        Some(fx) => within_range(fx - cw / 2.0, within.x, within.x + within.w - cw),
        None => within.x + (within.w - cw) * ax,
    };
    let y = match fy {
        Some(fy) => within_range(fy - ch / 2.0, within.y, within.y + within.h - ch),
        None => within.y + (within.h - ch) * ay,
    };
    Region { x, y, w: cw, h: ch }
}

/// `v` limited to `lo..=hi`; unlike `f64::clamp` it cannot panic when rounding leaves `hi` a
/// hair below `lo`.
fn within_range(v: f64, lo: f64, hi: f64) -> f64 {
    v.min(hi).max(lo)
}

#[cfg(test)]
mod tests {
    use super::*;
    use imgd_url::parse_canonical;

    fn p(q: &str, w: u32, h: u32) -> Plan {
        plan(&parse_canonical(q).unwrap(), w, h, 10_000).unwrap()
    }

    fn out(q: &str, w: u32, h: u32) -> (u32, u32) {
        p(q, w, h).output_size()
    }

    #[test]
    fn output_sizes() {
        for (q, src, want) in [
            ("w=300", (1200, 800), (300, 200)),
            ("h=100", (1200, 800), (150, 100)),
            ("w=300&dpr=2", (1200, 800), (600, 400)),
            ("w=450", (400, 300), (450, 338)),
            ("w=450&org_if_sml=1", (400, 300), (400, 300)),
            ("w=300&h=300", (1200, 800), (300, 300)),
            ("w=300&h=300&func=crop", (1200, 800), (300, 300)),
            ("w=500&h=200&func=fit", (400, 100), (500, 200)),
            ("w=300&h=300&func=bound", (1200, 800), (300, 200)),
            ("w=300&h=300&func=boundmin", (1200, 800), (450, 300)),
            ("w=300&h=100&func=cover", (1200, 800), (300, 100)),
            ("w=500&h=350&func=cropfit", (650, 500), (500, 350)),
            ("w=500&h=350&func=cropfit", (400, 250), (500, 350)),
            ("ar=16:9&w=320", (1000, 1000), (320, 180)),
            ("ar=2", (1000, 1000), (1000, 500)),
            ("ar=1,2", (1500, 1000), (1500, 1000)),
            ("ar=1,2", (3000, 1000), (2000, 1000)),
            ("tl_px=100,100&br_px=300,200", (1000, 1000), (200, 100)),
            ("tl_px=100,100&w=90", (1000, 1000), (90, 90)),
            ("br_px=500,250&w=100", (1000, 1000), (100, 50)),
            ("", (640, 480), (640, 480)),
        ] {
            assert_eq!(out(q, src.0, src.1), want, "{q} on {src:?}");
        }
    }

    #[test]
    fn crop_keeps_the_gravity_side() {
        // 1200x800 → 300x300: the source window is 800x800.
        let north = p("w=300&h=300&gravity=north", 800, 1200).region;
        assert_eq!(
            (north.x, north.y, north.w, north.h),
            (0.0, 0.0, 800.0, 800.0)
        );
        let south = p("w=300&h=300&gravity=south", 800, 1200).region;
        assert_eq!(south.y, 400.0);
        let east = p("w=300&h=300&gravity=east", 1200, 800).region;
        assert_eq!(east.x, 400.0);
        let centre = p("w=300&h=300", 1200, 800).region;
        assert_eq!(centre.x, 200.0);
    }

    #[test]
    fn focal_points_centre_the_crop_and_clamp() {
        let r = p("w=100&h=100&gravity=500,400", 1200, 800).region;
        assert_eq!((r.x, r.y, r.w), (100.0, 0.0, 800.0));
        let r = p("w=100&h=100&gravity=100p,50p", 1200, 800).region;
        assert_eq!(r.x, 400.0, "clamped to the right edge");
        let r = p("w=200&h=100&gravity=10p,50p", 1200, 800).region;
        assert_eq!((r.x, r.w, r.h), (0.0, 1200.0, 600.0));
        assert_eq!(r.y, 100.0);
    }

    #[test]
    fn fit_canvas_placement() {
        let c = p("w=500&h=200&func=fit", 400, 100).canvas.unwrap();
        assert_eq!((c.width, c.height, c.x, c.y), (500, 200, 50, 50));
        let c = p("w=500&h=200&func=fit&gravity=west", 400, 100)
            .canvas
            .unwrap();
        assert_eq!((c.x, c.y), (0, 50));
        let pl = p("w=500&h=200&func=fit&fit_enlarge=1", 400, 100);
        assert_eq!(pl.scaled, (500, 125));
    }

    #[test]
    fn crop_without_enlarging() {
        let pl = p("w=600&h=300&org_if_sml=1", 400, 400);
        assert_eq!(pl.scaled, (400, 300));
    }

    #[test]
    fn limits() {
        let spec = parse_canonical("w=20000").unwrap();
        assert!(matches!(
            plan(&spec, 100, 100, 10_000),
            Err(PipelineError::OutputTooLarge { .. })
        ));
        let spec = parse_canonical("tl_px=500,500").unwrap();
        assert!(matches!(
            plan(&spec, 100, 100, 10_000),
            Err(PipelineError::EmptyCrop { .. })
        ));
    }

    #[test]
    fn identity() {
        assert!(p("", 640, 480).is_identity(640, 480));
        assert!(!p("w=320", 640, 480).is_identity(640, 480));
    }

    proptest::proptest! {
        /// Whatever the URL asks, the plan keeps its region inside the source and its output
        /// between 1 px and the limit (or refuses with a typed error).
        #[test]
        fn plans_stay_inside_the_source(
            w in 1u32..4000, h in 1u32..4000,
            tw in proptest::option::of(1u32..5000), th in proptest::option::of(1u32..5000),
            func in proptest::option::of(proptest::sample::select(vec![
                "crop", "fit", "cropfit", "bound", "boundmin", "cover", "face",
            ])),
            gravity in proptest::option::of(proptest::sample::select(vec![
                "north", "southeast", "west", "3000,10", "99p,1p", "0,0",
            ])),
            tl in proptest::option::of((0u32..4000, 0u32..4000)),
            br in proptest::option::of((0u32..4000, 0u32..4000)),
            ar in proptest::option::of(proptest::sample::select(vec!["1", "16:9", "0.1", "1,2", "3:1,4"])),
            dpr in proptest::option::of(proptest::sample::select(vec!["1.5", "2", "5"])),
            org in proptest::bool::ANY,
        ) {
            let mut q = Vec::new();
            if let Some(v) = tw { q.push(format!("w={v}")); }
            if let Some(v) = th { q.push(format!("h={v}")); }
            if let Some(v) = func { q.push(format!("func={v}")); }
            if let Some(v) = gravity { q.push(format!("gravity={v}")); }
            if let Some((x, y)) = tl { q.push(format!("tl_px={x},{y}")); }
            if let Some((x, y)) = br { q.push(format!("br_px={x},{y}")); }
            if let Some(v) = ar { q.push(format!("ar={v}")); }
            if let Some(v) = dpr { q.push(format!("dpr={v}")); }
            if org { q.push("org_if_sml=1".into()); }
            let spec = parse_canonical(&q.join("&")).unwrap();
            match plan(&spec, w, h, 10_000) {
                Ok(p) => {
                    let r = p.region;
                    proptest::prop_assert!(r.x >= 0.0 && r.y >= 0.0 && r.w > 0.0 && r.h > 0.0, "{r:?}");
                    proptest::prop_assert!(r.x + r.w <= f64::from(w) + 1e-6, "{r:?} in {w}x{h}");
                    proptest::prop_assert!(r.y + r.h <= f64::from(h) + 1e-6, "{r:?} in {w}x{h}");
                    let (ow, oh) = p.output_size();
                    proptest::prop_assert!((1..=10_000).contains(&ow) && (1..=10_000).contains(&oh));
                    proptest::prop_assert!(p.scaled.0 >= 1 && p.scaled.1 >= 1);
                    if let Some(c) = p.canvas {
                        proptest::prop_assert!(c.x + p.scaled.0 <= c.width && c.y + p.scaled.1 <= c.height);
                    }
                }
                Err(PipelineError::OutputTooLarge { .. } | PipelineError::EmptyCrop { .. }) => {}
                Err(e) => proptest::prop_assert!(false, "unexpected {e}"),
            }
        }
    }
}

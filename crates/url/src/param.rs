//! One Cloudimage parameter (name, value) → a field of [`TransformSpec`].
//!
//! Owns: parameter names and their aliases (`w`/`width`, `bg_color`/`bg_colour`, ...) and every
//! value syntax. Must not: know about origins, tokens or precedence (see `request.rs`).

use crate::color::parse_color;
use crate::error::ParseError;
use crate::spec::{
    AspectRatio, Flip, Func, Gravity, Hundredths, OutputFormat, Point, TransformSpec,
};

/// Largest accepted `w`/`h` in the URL; the pipeline applies the configured output limit.
const MAX_SIDE: u32 = 100_000;

/// What the parser does with a name after aliases are folded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// A transformation parameter: applied to the spec.
    Transform,
    /// `p`: presets, resolved by the request parser.
    Preset,
    /// `ci_url_encoded`, `ci_sign`, `ci_seal`, `ci_eqs`: consumed by the request parser.
    Consumed,
}

/// Folds aliases to the canonical name.
pub fn canonical_name(name: &str) -> &str {
    match name {
        "width" => "w",
        "height" => "h",
        "bg_colour" => "bg_color",
        "aspect_ratio" => "ar",
        "bg_colourise" => "bg_colorize",
        "wat_colour" => "wat_color",
        "gray" => "grey",
        "pixellate" => "pixelate",
        other => other,
    }
}

pub fn control(name: &str) -> Control {
    match name {
        "p" => Control::Preset,
        "ci_url_encoded" | "ci_sign" | "ci_seal" | "ci_eqs" => Control::Consumed,
        _ => Control::Transform,
    }
}

fn invalid(param: &'static str, value: &str, expected: &'static str) -> ParseError {
    ParseError::InvalidValue {
        param,
        value: value.to_string(),
        expected,
    }
}

/// Applies one parameter (name already canonical) to `spec`. Later calls override earlier
/// ones, which is how rules < URL < presets precedence is implemented by the caller.
pub fn apply(spec: &mut TransformSpec, name: &str, value: &str) -> Result<(), ParseError> {
    let v = value.trim();
    match name {
        "w" => spec.width = side("w", v)?,
        "h" => spec.height = side("h", v)?,
        "func" => {
            spec.func = Some(
                Func::from_name(&v.to_ascii_lowercase())
                    .ok_or_else(|| invalid("func", v, Func::ACCEPTED))?,
            )
        }
        "org_if_sml" => spec.org_if_sml = flag("org_if_sml", v)?,
        "fit_enlarge" => spec.fit_enlarge = flag("fit_enlarge", v)?,
        "bg_color" => {
            spec.background = Some(parse_color(v).ok_or_else(|| {
                invalid(
                    "bg_color",
                    v,
                    "a hex colour (3, 6 or 8 digits) or a colour name",
                )
            })?)
        }
        "gravity" => spec.gravity = Some(gravity(v)?),
        "tl_px" => spec.top_left = Some(point("tl_px", v)?),
        "br_px" => spec.bottom_right = Some(point("br_px", v)?),
        "ar" => spec.aspect_ratio = Some(aspect_ratio(v)?),
        "dpr" => {
            let d = decimal(v, 2)
                .filter(|d| (100..=500).contains(d))
                .ok_or_else(|| invalid("dpr", v, "a number from 1 to 5"))?;
            spec.dpr = if d == 100 { None } else { Some(Hundredths(d)) };
        }
        "flip" => {
            spec.flip = Some(match v.to_ascii_lowercase().as_str() {
                "h" => Flip::Horizontal,
                "v" => Flip::Vertical,
                "hv" | "vh" => Flip::Both,
                _ => return Err(invalid("flip", v, "h, v or hv")),
            })
        }
        "r" => {
            let deg = signed_decimal(v, 2).ok_or_else(|| {
                invalid(
                    "r",
                    v,
                    "an angle in degrees (counter-clockwise, decimals allowed)",
                )
            })?;
            let norm = deg.rem_euclid(36_000) as u32;
            spec.rotate = if norm == 0 {
                None
            } else {
                Some(Hundredths(norm))
            };
        }
        "q" => {
            spec.quality = Some(
                v.parse::<u8>()
                    .ok()
                    .filter(|q| (1..=100).contains(q))
                    .ok_or_else(|| invalid("q", v, "an integer from 1 to 100"))?,
            )
        }
        "force_format" => {
            spec.format = Some(
                OutputFormat::from_name(&v.to_ascii_lowercase())
                    .ok_or_else(|| invalid("force_format", v, OutputFormat::ACCEPTED))?,
            )
        }
        "ci_cache" => {
            spec.cache_seconds = Some(
                v.parse::<u32>()
                    .map_err(|_| invalid("ci_cache", v, "a number of seconds"))?,
            )
        }
        other => {
            spec.other.insert(other.to_string(), value.to_string());
        }
    }
    Ok(())
}

/// `w=300`. `w=0` (and an empty value) means "not given", as clients emit `w=0` for "auto".
fn side(param: &'static str, v: &str) -> Result<Option<u32>, ParseError> {
    if v.is_empty() {
        return Ok(None);
    }
    let n = v
        .parse::<u32>()
        .ok()
        .or_else(|| {
            // Clients computing sizes sometimes emit `300.0`; accept integral decimals only.
            v.strip_suffix(".0").and_then(|s| s.parse().ok())
        })
        .filter(|n| *n <= MAX_SIDE)
        .ok_or_else(|| invalid(param, v, "a whole number of pixels"))?;
    Ok((n > 0).then_some(n))
}

fn flag(param: &'static str, v: &str) -> Result<bool, ParseError> {
    match v {
        "1" | "" | "true" => Ok(true),
        "0" | "false" => Ok(false),
        _ => Err(invalid(param, v, "1 or 0")),
    }
}

fn point(param: &'static str, v: &str) -> Result<Point, ParseError> {
    let (x, y) = v
        .split_once(',')
        .ok_or_else(|| invalid(param, v, "X,Y in pixels"))?;
    match (x.trim().parse(), y.trim().parse()) {
        (Ok(x), Ok(y)) => Ok(Point { x, y }),
        _ => Err(invalid(param, v, "X,Y in pixels")),
    }
}

fn gravity(v: &str) -> Result<Gravity, ParseError> {
    let lower = v.to_ascii_lowercase();
    if let Some(g) = Gravity::from_name(&lower) {
        return Ok(g);
    }
    let bad = || invalid("gravity", v, Gravity::ACCEPTED);
    let (x, y) = lower.split_once(',').ok_or_else(bad)?;
    let (x, y) = (x.trim(), y.trim());
    match (x.strip_suffix('p'), y.strip_suffix('p')) {
        (Some(px), Some(py)) => {
            let x = decimal(px, 2).filter(|n| *n <= 10_000).ok_or_else(bad)?;
            let y = decimal(py, 2).filter(|n| *n <= 10_000).ok_or_else(bad)?;
            Ok(Gravity::FocalPercent {
                x: Hundredths(x),
                y: Hundredths(y),
            })
        }
        (None, None) => match (x.parse(), y.parse()) {
            (Ok(x), Ok(y)) => Ok(Gravity::FocalPx(Point { x, y })),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

fn aspect_ratio(v: &str) -> Result<AspectRatio, ParseError> {
    const EXPECTED: &str = "a ratio such as 1.5 or 16:9, or a range AR1,AR2";
    let one = |s: &str| -> Option<u32> {
        let s = s.trim();
        let r = if let Some((a, b)) = s.split_once(':') {
            let (a, b) = (decimal(a, 4)?, decimal(b, 4)?);
            if b == 0 {
                return None;
            }
            (f64::from(a) / f64::from(b) * AspectRatio::SCALE).round() as u32
        } else {
            decimal(s, 4)?
        };
        (1..=1_000_000).contains(&r).then_some(r)
    };
    match v.split_once(',') {
        Some((a, b)) => {
            let (a, b) = (
                one(a).ok_or_else(|| invalid("ar", v, EXPECTED))?,
                one(b).ok_or_else(|| invalid("ar", v, EXPECTED))?,
            );
            Ok(AspectRatio::Range(a.min(b), a.max(b)))
        }
        None => Ok(AspectRatio::Fixed(
            one(v).ok_or_else(|| invalid("ar", v, EXPECTED))?,
        )),
    }
}

/// Parses a non-negative decimal into an integer scaled by 10^`places`, rounding extra digits.
fn decimal(s: &str, places: u32) -> Option<u32> {
    let s = s.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let scale = 10u64.pow(places);
    let mut frac_val = 0u64;
    for (i, d) in frac.bytes().take(places as usize + 1).enumerate() {
        let d = u64::from(d - b'0');
        if i < places as usize {
            frac_val += d * 10u64.pow(places - 1 - i as u32);
        } else if d >= 5 {
            frac_val += 1;
        }
    }
    u32::try_from(whole.checked_mul(scale)?.checked_add(frac_val)?).ok()
}

fn signed_decimal(s: &str, places: u32) -> Option<i64> {
    let s = s.trim();
    match s.strip_prefix('-') {
        Some(rest) => decimal(rest, places).map(|n| -i64::from(n)),
        None => decimal(s.strip_prefix('+').unwrap_or(s), places).map(i64::from),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Color;

    fn spec_of(pairs: &[(&str, &str)]) -> Result<TransformSpec, ParseError> {
        let mut s = TransformSpec::default();
        for (n, v) in pairs {
            apply(&mut s, canonical_name(n), v)?;
        }
        Ok(s)
    }

    fn err_param(name: &str, value: &str) -> &'static str {
        match spec_of(&[(name, value)]) {
            Err(ParseError::InvalidValue { param, .. }) => param,
            other => panic!("{name}={value}: expected an invalid value, got {other:?}"),
        }
    }

    #[test]
    fn decimals() {
        assert_eq!(decimal("1.5", 2), Some(150));
        assert_eq!(decimal("1.005", 2), Some(101));
        assert_eq!(decimal(".5", 2), Some(50));
        assert_eq!(decimal("2", 4), Some(20_000));
        assert_eq!(decimal("1.", 2), Some(100));
        assert_eq!(decimal("", 2), None);
        assert_eq!(decimal("1e3", 2), None);
        assert_eq!(decimal("-1", 2), None);
        assert_eq!(signed_decimal("-90", 2), Some(-9000));
    }

    #[test]
    fn values_parse() {
        let s = spec_of(&[
            ("width", "300"),
            ("height", "200.0"),
            ("func", "CROP"),
            ("bg_colour", "f00"),
            ("gravity", "centre"),
            ("tl_px", "10, 20"),
            ("aspect_ratio", "16:9"),
            ("dpr", "1.5"),
            ("flip", "vh"),
            ("r", "-90"),
            ("q", "75"),
            ("force_format", "JPG"),
            ("ci_cache", "60"),
            ("org_if_sml", "1"),
        ])
        .unwrap();
        assert_eq!(s.width, Some(300));
        assert_eq!(s.height, Some(200));
        assert_eq!(s.func, Some(Func::Crop));
        assert_eq!(s.background, Some(Color::rgb(255, 0, 0)));
        assert_eq!(s.gravity, Some(Gravity::Center));
        assert_eq!(s.top_left, Some(Point { x: 10, y: 20 }));
        assert_eq!(s.aspect_ratio, Some(AspectRatio::Fixed(17_778)));
        assert_eq!(s.dpr, Some(Hundredths(150)));
        assert_eq!(s.flip, Some(Flip::Both));
        assert_eq!(
            s.rotate,
            Some(Hundredths(27_000)),
            "-90 is 270 counter-clockwise"
        );
        assert_eq!(s.quality, Some(75));
        assert_eq!(s.format, Some(OutputFormat::Jpeg));
        assert_eq!(s.cache_seconds, Some(60));
        assert!(s.org_if_sml);
    }

    #[test]
    fn gravity_forms() {
        let g = |v| spec_of(&[("gravity", v)]).unwrap().gravity.unwrap();
        assert_eq!(g("NorthEast"), Gravity::NorthEast);
        assert_eq!(g("120,40"), Gravity::FocalPx(Point { x: 120, y: 40 }));
        assert_eq!(
            g("25p,75.5p"),
            Gravity::FocalPercent {
                x: Hundredths(2500),
                y: Hundredths(7550)
            }
        );
    }

    #[test]
    fn zero_and_empty_sides_mean_unset() {
        let s = spec_of(&[("w", "0"), ("h", "")]).unwrap();
        assert_eq!((s.width, s.height), (None, None));
    }

    #[test]
    fn rotation_normalises() {
        let r = |v| spec_of(&[("r", v)]).unwrap().rotate;
        assert_eq!(r("360"), None);
        assert_eq!(r("450"), Some(Hundredths(9000)));
        assert_eq!(r("12.5"), Some(Hundredths(1250)));
    }

    #[test]
    fn aspect_ratio_range_is_ordered() {
        let s = spec_of(&[("ar", "2,1:1")]).unwrap();
        assert_eq!(s.aspect_ratio, Some(AspectRatio::Range(10_000, 20_000)));
    }

    #[test]
    fn invalid_values_name_their_parameter() {
        for (name, value, param) in [
            ("w", "abc", "w"),
            ("width", "-3", "w"),
            ("w", "1.5", "w"),
            ("h", "999999999", "h"),
            ("func", "zoom", "func"),
            ("q", "500", "q"),
            ("q", "0", "q"),
            ("bg_colour", "nothex", "bg_color"),
            ("gravity", "up", "gravity"),
            ("gravity", "1p,2", "gravity"),
            ("gravity", "101p,2p", "gravity"),
            ("tl_px", "1", "tl_px"),
            ("ar", "0", "ar"),
            ("ar", "16:0", "ar"),
            ("dpr", "6", "dpr"),
            ("dpr", "0.5", "dpr"),
            ("flip", "x", "flip"),
            ("r", "left", "r"),
            ("force_format", "bmp", "force_format"),
            ("ci_cache", "-1", "ci_cache"),
            ("org_if_sml", "yes", "org_if_sml"),
        ] {
            assert_eq!(err_param(name, value), param, "{name}={value}");
        }
    }

    #[test]
    fn unknown_parameters_are_kept_verbatim() {
        let s = spec_of(&[("vh", "a1b2"), ("grey", "1")]).unwrap();
        assert_eq!(s.other.get("vh").map(String::as_str), Some("a1b2"));
        assert_eq!(s.other.get("grey").map(String::as_str), Some("1"));
    }
}

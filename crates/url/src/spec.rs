//! The typed transformation a URL asks for: [`TransformSpec`] and its value types.
//!
//! Owns: the shape of a parsed request's operations and their canonical text form (used as the
//! variant key). Must not: know any URL syntax beyond the canonical form, do I/O, or carry
//! anything that does not change the output (signatures, `p=`, `ci_url_encoded` are consumed by
//! the parser). Each variant's doc names the Cloudimage parameter it comes from, so grep works
//! both ways.

use std::collections::BTreeMap;
use std::fmt;

/// Everything a request asks to be done to its original, parsed and typed.
///
/// Two URLs that mean the same thing (parameter order, name aliases, `16:9` vs `1.7778`) give
/// equal specs and equal [`TransformSpec::canonical`] strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TransformSpec {
    /// `w` / `width`: target width in px (before `dpr`).
    pub width: Option<u32>,
    /// `h` / `height`: target height in px (before `dpr`).
    pub height: Option<u32>,
    /// `func`: how `w`×`h` is reached. `None` with both sides given means crop.
    pub func: Option<Func>,
    /// `org_if_sml=1`: never enlarge beyond the original size.
    pub org_if_sml: bool,
    /// `fit_enlarge=1`: `func=fit` may upscale a smaller original.
    pub fit_enlarge: bool,
    /// `bg_color` / `bg_colour`: fit padding, rotation fill and JPEG flattening colour.
    pub background: Option<Color>,
    /// `gravity`: crop anchor, or placement on the fit canvas.
    pub gravity: Option<Gravity>,
    /// `tl_px=X,Y`: top-left corner of a positionable crop, in original px.
    pub top_left: Option<Point>,
    /// `br_px=X,Y`: bottom-right corner of a positionable crop, in original px.
    pub bottom_right: Option<Point>,
    /// `aspect_ratio` / `ar`.
    pub aspect_ratio: Option<AspectRatio>,
    /// `dpr`: multiplies `w` and `h`, in hundredths (100..=500).
    pub dpr: Option<Hundredths>,
    /// `flip=h|v|hv`.
    pub flip: Option<Flip>,
    /// `r`: counter-clockwise rotation in hundredths of a degree, normalised to 0..36000.
    pub rotate: Option<Hundredths>,
    /// `q`: encoder quality 1..=100.
    pub quality: Option<u8>,
    /// `force_format`.
    pub format: Option<OutputFormat>,
    /// `ci_cache=N`: `Cache-Control` max-age and s-maxage for this URL, in seconds.
    pub cache_seconds: Option<u32>,
    /// Parameters imgd does not process. Kept (sorted) so cache busters such as `vh=` give
    /// distinct variants; never interpreted.
    pub other: BTreeMap<String, String>,
}

/// `func=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Func {
    /// `func=crop`: cover the box, then crop to exactly `w`×`h`.
    Crop,
    /// `func=fit`: fit inside the box and pad it with `bg_color`.
    Fit,
    /// `func=cropfit`: crop when the original covers the box, else fit.
    CropFit,
    /// `func=bound`: fit inside the box, no padding.
    Bound,
    /// `func=boundmin`: scale to cover the box, no crop, no padding.
    BoundMin,
    /// `func=cover`: exactly `w`×`h`, proportions ignored.
    Cover,
    /// `func=face`: crop around the largest face (falls back to crop with `gravity=auto`).
    Face,
}

impl Func {
    pub const ACCEPTED: &'static str = "crop, fit, cropfit, bound, boundmin, cover, face";

    pub fn as_str(self) -> &'static str {
        match self {
            Func::Crop => "crop",
            Func::Fit => "fit",
            Func::CropFit => "cropfit",
            Func::Bound => "bound",
            Func::BoundMin => "boundmin",
            Func::Cover => "cover",
            Func::Face => "face",
        }
    }

    pub fn from_name(s: &str) -> Option<Func> {
        Some(match s {
            "crop" => Func::Crop,
            "fit" => Func::Fit,
            "cropfit" => Func::CropFit,
            "bound" => Func::Bound,
            "boundmin" => Func::BoundMin,
            "cover" => Func::Cover,
            "face" => Func::Face,
            _ => return None,
        })
    }
}

/// `gravity=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gravity {
    /// `center` / `centre`.
    Center,
    North,
    South,
    East,
    West,
    NorthEast,
    NorthWest,
    SouthEast,
    SouthWest,
    /// `auto`: content-aware.
    Auto,
    /// `smart`: content-aware, people first.
    Smart,
    /// `face`: the dominant face, else `auto`.
    Face,
    /// `trim`.
    Trim,
    /// `gravity=X,Y`: a focal point in original px.
    FocalPx(Point),
    /// `gravity=Xp,Yp`: a focal point in hundredths of a percent of the original.
    FocalPercent {
        x: Hundredths,
        y: Hundredths,
    },
}

impl Gravity {
    pub const ACCEPTED: &'static str = "north, south, east, west, northeast, northwest, \
        southeast, southwest, center, centre, auto, smart, face, trim, X,Y (px) or Xp,Yp (percent)";

    pub fn from_name(s: &str) -> Option<Gravity> {
        Some(match s {
            "center" | "centre" => Gravity::Center,
            "north" => Gravity::North,
            "south" => Gravity::South,
            "east" => Gravity::East,
            "west" => Gravity::West,
            "northeast" => Gravity::NorthEast,
            "northwest" => Gravity::NorthWest,
            "southeast" => Gravity::SouthEast,
            "southwest" => Gravity::SouthWest,
            "auto" => Gravity::Auto,
            "smart" => Gravity::Smart,
            "face" => Gravity::Face,
            "trim" => Gravity::Trim,
            _ => return None,
        })
    }

    /// The anchor as fractions of the free space (0 = left/top, 1 = right/bottom) for the
    /// compass points; `None` for focal points and content-aware modes.
    pub fn anchor(self) -> Option<(f64, f64)> {
        Some(match self {
            Gravity::Center | Gravity::Auto | Gravity::Smart | Gravity::Face | Gravity::Trim => {
                (0.5, 0.5)
            }
            Gravity::North => (0.5, 0.0),
            Gravity::South => (0.5, 1.0),
            Gravity::East => (1.0, 0.5),
            Gravity::West => (0.0, 0.5),
            Gravity::NorthEast => (1.0, 0.0),
            Gravity::NorthWest => (0.0, 0.0),
            Gravity::SouthEast => (1.0, 1.0),
            Gravity::SouthWest => (0.0, 1.0),
            Gravity::FocalPx(_) | Gravity::FocalPercent { .. } => return None,
        })
    }
}

impl fmt::Display for Gravity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Gravity::Center => "center",
            Gravity::North => "north",
            Gravity::South => "south",
            Gravity::East => "east",
            Gravity::West => "west",
            Gravity::NorthEast => "northeast",
            Gravity::NorthWest => "northwest",
            Gravity::SouthEast => "southeast",
            Gravity::SouthWest => "southwest",
            Gravity::Auto => "auto",
            Gravity::Smart => "smart",
            Gravity::Face => "face",
            Gravity::Trim => "trim",
            Gravity::FocalPx(p) => return write!(f, "{},{}", p.x, p.y),
            Gravity::FocalPercent { x, y } => return write!(f, "{x}p,{y}p"),
        };
        f.write_str(name)
    }
}

/// A pixel position in the (orientation-corrected) original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Point {
    pub x: u32,
    pub y: u32,
}

/// A non-negative decimal kept as an integer number of hundredths, so specs stay `Eq + Hash`
/// and print back exactly (`1.5` is `Hundredths(150)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hundredths(pub u32);

impl Hundredths {
    pub fn as_f64(self) -> f64 {
        f64::from(self.0) / 100.0
    }
}

impl fmt::Display for Hundredths {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (whole, frac) = (self.0 / 100, self.0 % 100);
        match frac {
            0 => write!(f, "{whole}"),
            n if n % 10 == 0 => write!(f, "{whole}.{}", n / 10),
            n => write!(f, "{whole}.{n:02}"),
        }
    }
}

/// `aspect_ratio` / `ar`: width / height, in ten-thousandths (`16:9` is 17778).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AspectRatio {
    /// `ar=1.5` or `ar=3:2`.
    Fixed(u32),
    /// `ar=AR1,AR2`: images whose ratio lies inside are untouched, others cropped to the
    /// nearer bound. Stored low, high.
    Range(u32, u32),
}

impl AspectRatio {
    pub const SCALE: f64 = 10_000.0;
}

fn write_ratio(f: &mut fmt::Formatter<'_>, r: u32) -> fmt::Result {
    let (whole, frac) = (r / 10_000, r % 10_000);
    if frac == 0 {
        return write!(f, "{whole}");
    }
    let digits = format!("{frac:04}");
    write!(f, "{whole}.{}", digits.trim_end_matches('0'))
}

impl fmt::Display for AspectRatio {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AspectRatio::Fixed(r) => write_ratio(f, r),
            AspectRatio::Range(a, b) => {
                write_ratio(f, a)?;
                f.write_str(",")?;
                write_ratio(f, b)
            }
        }
    }
}

/// `flip=` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flip {
    /// `flip=h`: mirror left↔right.
    Horizontal,
    /// `flip=v`: mirror top↔bottom.
    Vertical,
    /// `flip=hv` (or `vh`): both.
    Both,
}

impl Flip {
    pub fn as_str(self) -> &'static str {
        match self {
            Flip::Horizontal => "h",
            Flip::Vertical => "v",
            Flip::Both => "hv",
        }
    }
}

/// An sRGB colour with straight alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Color {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: u8,
}

impl Color {
    pub const WHITE: Color = Color::rgb(255, 255, 255);
    pub const TRANSPARENT: Color = Color {
        r: 0,
        g: 0,
        b: 0,
        a: 0,
    };

    pub const fn rgb(r: u8, g: u8, b: u8) -> Color {
        Color { r, g, b, a: 255 }
    }
}

impl fmt::Display for Color {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02x}{:02x}{:02x}", self.r, self.g, self.b)?;
        if self.a != 255 {
            write!(f, "{:02x}", self.a)?;
        }
        Ok(())
    }
}

/// Encoded output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OutputFormat {
    /// `force_format=jpeg` / `jpg`.
    Jpeg,
    Png,
    Webp,
    Gif,
}

impl OutputFormat {
    pub const ACCEPTED: &'static str = "jpeg, jpg, png, webp, gif";

    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "jpeg",
            OutputFormat::Png => "png",
            OutputFormat::Webp => "webp",
            OutputFormat::Gif => "gif",
        }
    }

    pub fn from_name(s: &str) -> Option<OutputFormat> {
        Some(match s {
            "jpeg" | "jpg" => OutputFormat::Jpeg,
            "png" => OutputFormat::Png,
            "webp" => OutputFormat::Webp,
            "gif" => OutputFormat::Gif,
            _ => return None,
        })
    }

    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg => "image/jpeg",
            OutputFormat::Png => "image/png",
            OutputFormat::Webp => "image/webp",
            OutputFormat::Gif => "image/gif",
        }
    }

    /// Whether the format can carry an alpha channel.
    pub fn has_alpha(self) -> bool {
        !matches!(self, OutputFormat::Jpeg)
    }
}

impl TransformSpec {
    /// The canonical query form: canonical parameter names, canonical values, sorted by name.
    /// Parsing it back (with [`crate::parse_canonical`]) gives an equal spec.
    pub fn canonical(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut push = |k: &str, v: String| pairs.push((k.to_string(), v));
        if let Some(w) = self.width {
            push("w", w.to_string());
        }
        if let Some(h) = self.height {
            push("h", h.to_string());
        }
        if let Some(func) = self.func {
            push("func", func.as_str().to_string());
        }
        if self.org_if_sml {
            push("org_if_sml", "1".into());
        }
        if self.fit_enlarge {
            push("fit_enlarge", "1".into());
        }
        if let Some(c) = self.background {
            push("bg_color", c.to_string());
        }
        if let Some(g) = self.gravity {
            push("gravity", g.to_string());
        }
        if let Some(p) = self.top_left {
            push("tl_px", format!("{},{}", p.x, p.y));
        }
        if let Some(p) = self.bottom_right {
            push("br_px", format!("{},{}", p.x, p.y));
        }
        if let Some(ar) = self.aspect_ratio {
            push("ar", ar.to_string());
        }
        if let Some(d) = self.dpr {
            push("dpr", d.to_string());
        }
        if let Some(fl) = self.flip {
            push("flip", fl.as_str().to_string());
        }
        if let Some(r) = self.rotate {
            push("r", r.to_string());
        }
        if let Some(q) = self.quality {
            push("q", q.to_string());
        }
        if let Some(fmt) = self.format {
            push("force_format", fmt.as_str().to_string());
        }
        if let Some(s) = self.cache_seconds {
            push("ci_cache", s.to_string());
        }
        for (k, v) in &self.other {
            push(k, v.clone());
        }
        pairs.sort();
        let mut out = String::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                out.push('&');
            }
            out.push_str(&crate::query::encode_component(k));
            out.push('=');
            out.push_str(&crate::query::encode_component(v));
        }
        out
    }

    /// Whether the spec changes the pixels at all (a plain re-encode still counts as a change
    /// of bytes, but not of geometry).
    pub fn has_geometry(&self) -> bool {
        self.width.is_some()
            || self.height.is_some()
            || self.top_left.is_some()
            || self.bottom_right.is_some()
            || self.aspect_ratio.is_some()
            || self.flip.is_some()
            || self.rotate.is_some()
    }
}

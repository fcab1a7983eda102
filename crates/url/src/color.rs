//! Colour values: `bg_color=3498db`, `f00`, `ff000080` (RGBA), `#fff`, or a colour name.

use crate::spec::Color;

/// Named colours accepted in place of hex (the CSS basic set plus common extras).
const NAMES: &[(&str, Color)] = &[
    ("black", Color::rgb(0, 0, 0)),
    ("white", Color::rgb(255, 255, 255)),
    ("red", Color::rgb(255, 0, 0)),
    ("green", Color::rgb(0, 128, 0)),
    ("lime", Color::rgb(0, 255, 0)),
    ("blue", Color::rgb(0, 0, 255)),
    ("yellow", Color::rgb(255, 255, 0)),
    ("cyan", Color::rgb(0, 255, 255)),
    ("aqua", Color::rgb(0, 255, 255)),
    ("magenta", Color::rgb(255, 0, 255)),
    ("fuchsia", Color::rgb(255, 0, 255)),
    ("gray", Color::rgb(128, 128, 128)),
    ("grey", Color::rgb(128, 128, 128)),
    ("silver", Color::rgb(192, 192, 192)),
    ("maroon", Color::rgb(128, 0, 0)),
    ("olive", Color::rgb(128, 128, 0)),
    ("teal", Color::rgb(0, 128, 128)),
    ("navy", Color::rgb(0, 0, 128)),
    ("purple", Color::rgb(128, 0, 128)),
    ("orange", Color::rgb(255, 165, 0)),
    ("pink", Color::rgb(255, 192, 203)),
    ("brown", Color::rgb(165, 42, 42)),
    ("transparent", Color::TRANSPARENT),
];

pub fn parse_color(v: &str) -> Option<Color> {
    let v = v.trim().trim_start_matches('#').to_ascii_lowercase();
    if let Some((_, c)) = NAMES.iter().find(|(n, _)| *n == v) {
        return Some(*c);
    }
    if !v.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let nib = |i: usize| u8::from_str_radix(&v[i..=i], 16).ok().map(|n| n * 17);
    let byte = |i: usize| u8::from_str_radix(&v[i..i + 2], 16).ok();
    match v.len() {
        3 => Some(Color::rgb(nib(0)?, nib(1)?, nib(2)?)),
        4 => Some(Color {
            r: nib(0)?,
            g: nib(1)?,
            b: nib(2)?,
            a: nib(3)?,
        }),
        6 => Some(Color::rgb(byte(0)?, byte(2)?, byte(4)?)),
        8 => Some(Color {
            r: byte(0)?,
            g: byte(2)?,
            b: byte(4)?,
            a: byte(6)?,
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_color("3498db"), Some(Color::rgb(0x34, 0x98, 0xdb)));
        assert_eq!(parse_color("#FFF"), Some(Color::WHITE));
        assert_eq!(parse_color("f00"), Some(Color::rgb(255, 0, 0)));
        assert_eq!(
            parse_color("ff000080"),
            Some(Color {
                r: 255,
                g: 0,
                b: 0,
                a: 0x80
            })
        );
        assert_eq!(parse_color("Black"), Some(Color::rgb(0, 0, 0)));
        assert_eq!(parse_color("transparent"), Some(Color::TRANSPARENT));
        for bad in ["", "12", "12345", "ggg", "blurple", "1234567"] {
            assert_eq!(parse_color(bad), None, "{bad:?}");
        }
    }
}

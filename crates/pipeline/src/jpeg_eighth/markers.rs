//! The JPEG header, read up to the first scan: frame, quantisation and Huffman tables,
//! restart interval, ICC chunks, and where the entropy-coded data starts.
//!
//! Owns: recognising the files the 1/8 decoder takes (baseline 8-bit, grey or YCbCr 4:4:4 /
//! 4:2:0, one interleaved scan). Must not: decode entropy-coded data. Anything else, or
//! anything malformed, is `None`: libjpeg then decodes the file as before.

/// A Huffman table as DHT gives it: code counts per length 1..=16 and the symbols in order.
pub struct HuffSpec {
    pub counts: [u8; 16],
    pub symbols: Vec<u8>,
}

/// One component of the frame, with the tables its scan selects.
pub struct Component {
    /// Horizontal and vertical sampling factors (1 or 2; see `header`).
    pub h: u8,
    pub v: u8,
    /// Quantisation values in natural (row-major) order.
    pub quant: [u16; 64],
    pub dc_table: usize,
    pub ac_table: usize,
}

pub struct Header<'a> {
    pub width: u32,
    pub height: u32,
    pub components: Vec<Component>,
    /// DC tables 0..4 and AC tables 0..4, as the scan references them.
    pub dc: [Option<HuffSpec>; 4],
    pub ac: [Option<HuffSpec>; 4],
    /// MCUs per restart interval; 0 when there are no restart markers.
    pub restart_interval: u16,
    /// APP2 payloads (ICC chunks among them), in file order.
    pub app2: Vec<&'a [u8]>,
    /// Entropy-coded data of the scan and whatever follows it.
    pub scan_data: &'a [u8],
}

/// Zigzag index → natural index, as coefficients arrive in the stream.
pub const ZIGZAG: [u8; 64] = [
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20,
    13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];

/// Reads the header of `bytes`; `None` when the file is not one the 1/8 decoder takes.
pub fn header(bytes: &[u8]) -> Option<Header<'_>> {
    if bytes.get(..2)? != [0xFF, 0xD8] {
        return None;
    }
    let mut quant: [Option<[u16; 64]>; 4] = [None; 4];
    let mut dc: [Option<HuffSpec>; 4] = Default::default();
    let mut ac: [Option<HuffSpec>; 4] = Default::default();
    let mut frame: Option<(u32, u32, FrameComponents)> = None;
    let mut restart_interval = 0u16;
    let mut app2 = Vec::new();
    let mut at = 2usize;
    loop {
        // Fill bytes (any number of FF) may precede a marker.
        while *bytes.get(at)? == 0xFF && *bytes.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *bytes.get(at)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(at + 1)?;
        let len = usize::from(u16::from_be_bytes([
            *bytes.get(at + 2)?,
            *bytes.get(at + 3)?,
        ]));
        let body = bytes.get(at + 4..(at + 2).checked_add(len)?)?;
        if len < 2 {
            return None;
        }
        match marker {
            // Baseline and extended sequential Huffman; every other SOF goes to libjpeg.
            0xC0 | 0xC1 => frame = Some(sof(body)?),
            0xC2..=0xCF if marker != 0xC4 && marker != 0xC8 && marker != 0xCC => return None,
            0xC4 => dht(body, &mut dc, &mut ac)?,
            0xDB => dqt(body, &mut quant)?,
            0xDD => restart_interval = u16::from_be_bytes([*body.first()?, *body.get(1)?]),
            0xE2 => app2.push(body),
            // Adobe's APP14 may say the three components are RGB or YCCK; libjpeg knows.
            0xEE if body.starts_with(b"Adobe") => return None,
            0xDA => {
                let (width, height, comps) = frame?;
                let components = scan(body, &comps, &quant)?;
                return Some(Header {
                    width,
                    height,
                    components,
                    dc,
                    ac,
                    restart_interval,
                    app2,
                    scan_data: bytes.get(at + 2 + len..)?,
                });
            }
            _ => {}
        }
        at += 2 + len;
    }
}

/// Frame header: 8-bit precision, grey (any sampling: one component is not interleaved) or
/// three components with luma 1×1 or 2×2 and chroma 1×1. Returns (width, height,
/// [(id, h, v, quant table)]).
type FrameComponents = Vec<(u8, u8, u8, u8)>;
fn sof(b: &[u8]) -> Option<(u32, u32, FrameComponents)> {
    let height = u32::from(u16::from_be_bytes([*b.get(1)?, *b.get(2)?]));
    let width = u32::from(u16::from_be_bytes([*b.get(3)?, *b.get(4)?]));
    let n = usize::from(*b.get(5)?);
    if *b.first()? != 8 || width == 0 || height == 0 || !(n == 1 || n == 3) {
        return None;
    }
    let comps: FrameComponents = (0..n)
        .map(|i| {
            let c = b.get(6 + 3 * i..9 + 3 * i)?;
            Some((c[0], c[1] >> 4, c[1] & 15, c[2]))
        })
        .collect::<Option<_>>()?;
    if n == 3 {
        // Component ids R, G, B mean RGB to libjpeg, not YCbCr.
        if comps.iter().map(|c| c.0).eq(*b"RGB") {
            return None;
        }
        let luma = (comps[0].1, comps[0].2);
        let chroma_1x1 = comps[1..].iter().all(|c| (c.1, c.2) == (1, 1));
        if !chroma_1x1 || !(luma == (1, 1) || luma == (2, 2)) {
            return None;
        }
    }
    Some((width, height, comps))
}

fn dht(mut b: &[u8], dc: &mut [Option<HuffSpec>; 4], ac: &mut [Option<HuffSpec>; 4]) -> Option<()> {
    while let Some((&tc_th, rest)) = b.split_first() {
        let counts: [u8; 16] = rest.get(..16)?.try_into().ok()?;
        let total: usize = counts.iter().map(|&c| usize::from(c)).sum();
        let symbols = rest.get(16..16 + total)?.to_vec();
        let slot = usize::from(tc_th & 15);
        let spec = Some(HuffSpec { counts, symbols });
        match tc_th >> 4 {
            0 => *dc.get_mut(slot)? = spec,
            1 => *ac.get_mut(slot)? = spec,
            _ => return None,
        }
        b = rest.get(16 + total..)?;
    }
    Some(())
}

fn dqt(mut b: &[u8], quant: &mut [Option<[u16; 64]>; 4]) -> Option<()> {
    while let Some((&pq_tq, rest)) = b.split_first() {
        let wide = pq_tq >> 4 == 1;
        let size = if wide { 128 } else { 64 };
        let raw = rest.get(..size)?;
        let mut table = [0u16; 64];
        for (i, &z) in ZIGZAG.iter().enumerate() {
            table[usize::from(z)] = if wide {
                u16::from_be_bytes([raw[2 * i], raw[2 * i + 1]])
            } else {
                u16::from(raw[i])
            };
        }
        *quant.get_mut(usize::from(pq_tq & 15))? = Some(table);
        b = rest.get(size..)?;
    }
    Some(())
}

/// Scan header: one scan holding every component in frame order, sequential (Ss=0, Se=63,
/// no successive approximation).
fn scan(
    b: &[u8],
    comps: &[(u8, u8, u8, u8)],
    quant: &[Option<[u16; 64]>; 4],
) -> Option<Vec<Component>> {
    let n = usize::from(*b.first()?);
    if n != comps.len() || b.get(1 + 2 * n..4 + 2 * n)? != [0, 63, 0] {
        return None;
    }
    comps
        .iter()
        .enumerate()
        .map(|(i, &(id, h, v, tq))| {
            let sel = b.get(1 + 2 * i..3 + 2 * i)?;
            if sel[0] != id {
                return None;
            }
            Some(Component {
                h,
                v,
                quant: (*quant.get(usize::from(tq))?)?,
                dc_table: usize::from(sel[1] >> 4),
                ac_table: usize::from(sel[1] & 15),
            })
        })
        .collect()
}

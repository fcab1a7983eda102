//! Entropy-coded data as bits: the bit reader (byte stuffing, restart markers) and Huffman
//! lookup tables, including the one that makes skipping AC coefficients cheap.
//!
//! Owns: reading the scan as a bit string (stuffed `FF 00` → `FF`, a marker ends the data)
//! and decoding symbols from it. Must not: know about blocks, MCUs or pixels.
//!
//! Why this reader: it refills its 64-bit buffer with one unaligned load whenever the next
//! eight bytes hold no `FF` (all but a few hundredth of refills), with no per-byte checks and
//! no unstuffed copy of the data (a copy cost 5.6 MB per 18 MP photo). Why a skip table: at
//! 1/8 scale a block needs only its DC coefficient, yet every AC symbol must still be walked;
//! one lookup of the next 12 bits yields the bits and coefficient positions of up to four
//! whole (code + magnitude bits) symbols at once.

use super::markers::HuffSpec;

/// Bits looked up at once when decoding a symbol; longer codes take the slow path.
const FAST_BITS: u32 = 9;
/// Bits looked up at once when skipping AC coefficients.
const SKIP_BITS: u32 = 12;
/// Most symbols one skip entry may cover.
const SKIP_SYMBOLS: u32 = 4;
/// Coefficient advance of an end-of-block symbol: ends the block whatever the position.
const END: u32 = 64;

/// A Huffman table ready for decoding: a direct table for short codes and the canonical
/// per-length limits for the rest.
pub struct Decoder {
    /// Indexed by the next `FAST_BITS` bits: `len << 8 | symbol`, or 0 for a longer code.
    fast: [u16; 1 << FAST_BITS],
    /// For each length 1..=16: the largest code of that length (exclusive bound, left-aligned
    /// in 16 bits) and the index of its first symbol minus its first code.
    max_code: [u32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Decoder {
    /// `None` for a table whose counts overflow the code space (not a prefix code).
    pub fn new(spec: &HuffSpec) -> Option<Decoder> {
        let mut d = Decoder {
            fast: [0; 1 << FAST_BITS],
            max_code: [0; 17],
            offset: [0; 17],
            symbols: spec.symbols.clone(),
        };
        let mut code = 0u32;
        let mut index = 0usize;
        for len in 1..=16u32 {
            let count = u32::from(spec.counts[len as usize - 1]);
            d.offset[len as usize] = index as i32 - code as i32;
            for _ in 0..count {
                if code >= 1 << len {
                    return None;
                }
                if len <= FAST_BITS {
                    let first = (code << (FAST_BITS - len)) as usize;
                    let entry = (len as u16) << 8 | u16::from(*d.symbols.get(index)?);
                    d.fast[first..first + (1 << (FAST_BITS - len))].fill(entry);
                }
                code += 1;
                index += 1;
            }
            // Codes of this length are below `code`; compare 16-bit left-aligned peeks.
            d.max_code[len as usize] = code << (16 - len);
            code <<= 1;
        }
        Some(d)
    }

    /// The symbol at the head of `bits` (which must hold at least 16 bits) and its code
    /// length; `None` for a bit pattern that is no code.
    #[inline(always)]
    pub fn decode(&self, bits: &Bits) -> Option<(u8, u32)> {
        let e = self.fast[bits.peek(FAST_BITS) as usize];
        if e != 0 {
            return Some((e as u8, u32::from(e >> 8)));
        }
        let peek = bits.peek(16);
        for len in FAST_BITS + 1..=16 {
            if peek < self.max_code[len as usize] {
                let code = (peek >> (16 - len)) as i32;
                let i = usize::try_from(code + self.offset[len as usize]).ok()?;
                return Some((*self.symbols.get(i)?, len));
            }
        }
        None
    }
}

/// What one lookup of the next `SKIP_BITS` bits skips. 0 = nothing fits: decode slowly.
/// Layout: bits 0..4 all symbols' bits, 4..12 their coefficient advance, 12..19 the advance
/// of all but the last.
pub struct SkipTable(Box<[u32; 1 << SKIP_BITS]>);

/// How far an AC symbol (run << 4 | size) moves the coefficient position: ZRL 16 zeros, EOB
/// (or any other size-0 symbol, as libjpeg reads them) to the end, else the run and one value.
fn advance(sym: u8) -> u32 {
    match (sym >> 4, sym & 15) {
        (15, 0) => 16,
        (_, 0) => END,
        (run, _) => u32::from(run) + 1,
    }
}

impl SkipTable {
    pub fn new(d: &Decoder) -> SkipTable {
        let mut t = Box::new([0u32; 1 << SKIP_BITS]);
        for (i, slot) in t.iter_mut().enumerate() {
            let (mut used, mut adv, mut before_last) = (0u32, 0u32, 0u32);
            for _ in 0..SKIP_SYMBOLS {
                let Some((len, sym)) = d.short_code(i as u32, used) else {
                    break;
                };
                let bits = len + u32::from(sym & 15);
                if used + bits > SKIP_BITS {
                    break;
                }
                let step = advance(sym);
                before_last = adv;
                adv += step;
                used += bits;
                if step == END {
                    break;
                }
            }
            if used > 0 {
                *slot = used | adv << 4 | before_last << 12;
            }
        }
        SkipTable(t)
    }

    /// Skips the AC symbols of one block from position `k` (1..=63). `None` on a bad code.
    #[inline(always)]
    pub fn skip_block(&self, bits: &mut Bits, d: &Decoder) -> Option<()> {
        let mut k = 1u32;
        'refill: loop {
            // A refill leaves at least 56 bits: four table entries (at most 12 bits each)
            // without another check, instead of a hard-to-predict branch per lookup.
            bits.refill()?;
            for _ in 0..4 {
                let e = self.0[bits.peek(SKIP_BITS) as usize];
                if e == 0 || k + ((e >> 12) & 127) >= 64 {
                    // Rare: no whole symbol fits the table, or an earlier symbol of the entry
                    // already reaches coefficient 63 (a block may end without EOB). One symbol
                    // the slow way, in a call the compiler cannot turn into conditional moves:
                    // as cmovs, this test put `k` on the path from one lookup to the next.
                    k += one_symbol(bits, d)?;
                    if k >= 64 {
                        return Some(());
                    }
                    // Up to 26 bits went: the budget of this refill is spent.
                    continue 'refill;
                }
                bits.consume(e & 15);
                k += (e >> 4) & 255;
                if k >= 64 {
                    return Some(());
                }
            }
        }
    }
}

/// Skips one AC symbol (code and magnitude bits) the slow way; its coefficient advance.
#[cold]
#[inline(never)]
fn one_symbol(bits: &mut Bits, d: &Decoder) -> Option<u32> {
    bits.ensure()?;
    let (sym, len) = d.decode(bits)?;
    bits.consume(len + u32::from(sym & 15));
    Some(advance(sym))
}

impl Decoder {
    /// A code of at most `FAST_BITS` bits found in the `SKIP_BITS`-bit pattern `pattern` after
    /// `used` bits, if the pattern holds all of it: (code length, symbol).
    fn short_code(&self, pattern: u32, used: u32) -> Option<(u32, u8)> {
        let left = SKIP_BITS - used;
        let window = (pattern << used) & ((1 << SKIP_BITS) - 1);
        let e = self.fast[(window >> (SKIP_BITS - FAST_BITS)) as usize];
        let len = u32::from(e >> 8);
        (e != 0 && len <= left).then_some((len, e as u8))
    }
}

/// Sign-extends `size` magnitude bits as JPEG codes them (leading 0 = negative).
#[inline(always)]
pub fn extend(raw: u32, size: u32) -> i32 {
    if size == 0 {
        return 0;
    }
    let raw = raw as i32;
    if raw < 1 << (size - 1) {
        raw - (1 << size) + 1
    } else {
        raw
    }
}

/// Bytes of zeros fed after a marker or the end of data before the reader gives up. Valid data
/// never consumes them; the lookahead may hold up to 8.
const PHANTOM_LIMIT: u32 = 16;

/// An MSB-first bit reader over a scan's entropy-coded data: the top `count` bits of `buf` are
/// the next bits of the stream (the bits below them are the stream's too, loaded early).
pub struct Bits<'a> {
    data: &'a [u8],
    buf: u64,
    count: u32,
    /// The next byte not yet counted into `count`.
    pos: usize,
    /// Zero bytes counted in after a marker or the end of the data.
    phantom: u32,
}

/// Whether any byte of `x` is `FF`.
#[inline(always)]
fn has_ff(x: u64) -> bool {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte's high bit survives only if its low seven bits are all ones and it is ≥ 0x80.
    ((x & LOW7) + 0x0101_0101_0101_0101) & x & HIGH != 0
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Bits<'a> {
        Bits {
            data,
            buf: 0,
            count: 0,
            pos: 0,
            phantom: 0,
        }
    }

    /// Tops the buffer up to at least 56 bits. With no `FF` in the next eight bytes, one
    /// big-endian load and no branch on how many bytes fit (whole bytes are counted, the rest
    /// is loaded again next time); otherwise byte by byte. `None` once reading has gone
    /// `PHANTOM_LIMIT` bytes past the data, which only corrupt data does.
    #[inline(always)]
    pub fn refill(&mut self) -> Option<()> {
        if let Some(chunk) = self.data.get(self.pos..self.pos + 8) {
            let x = u64::from_be_bytes(chunk.try_into().ok()?);
            if !has_ff(x) {
                self.buf |= x >> self.count;
                self.pos += (63 - self.count as usize) >> 3;
                self.count |= 56;
                return Some(());
            }
        }
        self.refill_slowly()
    }

    #[cold]
    fn refill_slowly(&mut self) -> Option<()> {
        while self.count <= 56 {
            let byte = match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
                (Some(0xFF), Some(0x00)) => {
                    self.pos += 2;
                    0xFF
                }
                // Fill bytes before a marker.
                (Some(0xFF), Some(0xFF)) => {
                    self.pos += 1;
                    continue;
                }
                // A marker, or the end of the data: zeros, as libjpeg feeds.
                (Some(0xFF), _) | (None, _) => {
                    self.phantom += 1;
                    if self.phantom > PHANTOM_LIMIT {
                        return None;
                    }
                    0
                }
                (Some(&b), _) => {
                    self.pos += 1;
                    b
                }
            };
            self.buf |= u64::from(byte) << (56 - self.count);
            self.count += 8;
        }
        Some(())
    }

    /// Refills only when fewer than 32 bits are left: enough for any code and its
    /// magnitude bits (16 + 11), and a well-predicted branch instead of a load per symbol.
    #[inline(always)]
    pub fn ensure(&mut self) -> Option<()> {
        if self.count < 32 {
            self.refill()?;
        }
        Some(())
    }

    #[inline(always)]
    pub fn peek(&self, n: u32) -> u32 {
        (self.buf >> (64 - n)) as u32
    }

    #[inline(always)]
    pub fn consume(&mut self, n: u32) {
        self.buf <<= n;
        self.count -= n;
    }

    /// Reads `n` (≤ 16) bits as a number.
    #[inline(always)]
    pub fn take(&mut self, n: u32) -> u32 {
        if n == 0 {
            return 0;
        }
        let v = self.peek(n);
        self.consume(n);
        v
    }

    /// Whether everything consumed so far was data, with at most the padding of its last byte
    /// left over (more means the data had more than the scan used, or too little).
    pub fn ended_cleanly(&self) -> bool {
        let phantom_bits = self.phantom * 8;
        self.count >= phantom_bits && self.count - phantom_bits < 8
    }

    /// Moves past a restart marker, which must come next; the next interval starts afresh.
    pub fn restart(&mut self) -> Option<()> {
        if !self.ended_cleanly() || self.phantom == 0 {
            // The last refill must have stopped at the marker.
            return None;
        }
        match (self.data.get(self.pos), self.data.get(self.pos + 1)) {
            (Some(0xFF), Some(0xD0..=0xD7)) => self.pos += 2,
            _ => return None,
        }
        self.buf = 0;
        self.count = 0;
        self.phantom = 0;
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A table with codes 0 (sym 0x01), 10 (0x00 = EOB), 110 (0x02), 1110 (0xF0 = ZRL),
    /// then one 16-bit code 1111 0000 0000 0000 (0x0A).
    fn spec() -> HuffSpec {
        let mut counts = [0u8; 16];
        counts[0] = 1;
        counts[1] = 1;
        counts[2] = 1;
        counts[3] = 1;
        counts[15] = 1;
        HuffSpec {
            counts,
            symbols: vec![0x01, 0x00, 0x02, 0xF0, 0x0A],
        }
    }

    #[test]
    fn decodes_short_and_long_codes() {
        let d = Decoder::new(&spec()).unwrap();
        // 0 | 10 | 1111000000000000 | 0...
        let data = [0b0101_1110, 0b0000_0000, 0b0000_0000];
        let mut b = Bits::new(&data);
        b.refill().unwrap();
        assert_eq!(d.decode(&b), Some((0x01, 1)));
        b.consume(1);
        assert_eq!(d.decode(&b), Some((0x00, 2)));
        b.consume(2);
        assert_eq!(d.decode(&b), Some((0x0A, 16)));
    }

    #[test]
    fn skips_up_to_the_end_of_block() {
        let d = Decoder::new(&spec()).unwrap();
        let t = SkipTable::new(&d);
        // (0x01: 1 magnitude bit) ×2, ZRL, (0x02: 2 bits), EOB, then the next block's bits.
        // 0 1 | 0 0 | 1110 | 110 11 | 10 | 1111...
        // (The FF data byte is stuffed: FF 00.)
        let data = [0b0100_1110, 0b1101_1101, 0b1111_1111, 0x00];
        let mut b = Bits::new(&data);
        t.skip_block(&mut b, &d).unwrap();
        assert_eq!(b.take(8), 0xFF, "stops right after EOB");
    }

    #[test]
    fn a_block_can_end_without_eob() {
        let d = Decoder::new(&spec()).unwrap();
        let t = SkipTable::new(&d);
        // 63 coefficients of 0x01 (2 bits each), then the next block starts with 1s.
        let mut bits = String::new();
        for _ in 0..63 {
            bits.push_str("00");
        }
        bits.push_str("11111111");
        while !bits.len().is_multiple_of(8) {
            bits.push('0');
        }
        let bytes: Vec<u8> = bits
            .as_bytes()
            .chunks(8)
            .map(|c| u8::from_str_radix(std::str::from_utf8(c).unwrap(), 2).unwrap())
            .collect();
        let data = bytes;
        let mut b = Bits::new(&data);
        t.skip_block(&mut b, &d).unwrap();
        b.refill().unwrap();
        assert_eq!(b.take(8), 0xFF);
    }

    #[test]
    fn reads_through_stuffing_and_stops_at_markers() {
        let data = [1, 0xFF, 0x00, 2, 0xFF, 0xFF, 0xD0, 3, 0xFF, 0xD9];
        let mut b = Bits::new(&data);
        b.refill().unwrap();
        assert_eq!([b.take(8), b.take(8), b.take(8)], [1, 0xFF, 2]);
        assert!(b.ended_cleanly());
        b.restart().unwrap();
        b.refill().unwrap();
        assert_eq!(b.take(8), 3);
        assert!(b.ended_cleanly(), "the end of image is reached");
        assert_eq!(b.take(8), 0, "zeros after the marker");
        assert!(!b.ended_cleanly(), "but they count against the data");
        assert!(b.restart().is_none(), "no restart marker here");
    }

    #[test]
    fn fast_and_slow_refills_agree() {
        // A long stream with stuffed bytes at irregular places.
        let plain: Vec<u8> = (0..4000u32)
            .map(|i| if i % 97 == 5 { 0xFF } else { (i * 7) as u8 })
            .collect();
        let mut stuffed = Vec::new();
        for &p in &plain {
            stuffed.push(p);
            if p == 0xFF {
                stuffed.push(0);
            }
        }
        stuffed.extend_from_slice(&[0xFF, 0xD9]);
        let mut b = Bits::new(&stuffed);
        let mut got = Vec::new();
        let mut n = 1;
        while got.len() < plain.len() * 8 {
            b.ensure().unwrap();
            let v = b.take(n);
            for k in (0..n).rev() {
                got.push((v >> k) & 1);
            }
            n = n % 13 + 1;
        }
        let want: Vec<u32> = plain
            .iter()
            .flat_map(|&p| (0..8).rev().map(move |k| u32::from(p >> k) & 1))
            .collect();
        assert_eq!(&got[..want.len()], &want[..]);
    }

    #[test]
    fn has_ff_finds_any_ff_byte() {
        assert!(!has_ff(0x7F80_FE01_0000_00FE));
        for k in 0..8 {
            assert!(has_ff(0xFFu64 << (8 * k)));
            assert!(has_ff((0xFFu64 << (8 * k)) | 0x7F7F_7F7F_7F7F_7F7F));
        }
    }

    #[test]
    fn extends_magnitudes() {
        assert_eq!(extend(0, 1), -1);
        assert_eq!(extend(1, 1), 1);
        assert_eq!(extend(0b010, 3), -5);
        assert_eq!(extend(0b110, 3), 6);
        assert_eq!(extend(0, 0), 0);
    }

    #[test]
    fn overfull_tables_are_refused() {
        let mut counts = [0u8; 16];
        counts[0] = 3;
        assert!(Decoder::new(&HuffSpec {
            counts,
            symbols: vec![1, 2, 3]
        })
        .is_none());
    }
}

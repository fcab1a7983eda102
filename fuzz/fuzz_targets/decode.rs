//! The decode entry point on arbitrary bytes: the whole pipeline (probe, plan, decode, resize,
//! encode) under small limits must return an image or a typed error, never panic.
#![no_main]

use imgd_pipeline::{process, Limits, Negotiation};
use imgd_url::parse_canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let spec = parse_canonical("w=64&h=64&func=fit&r=30").unwrap();
    let limits = Limits {
        max_source_pixels: 4_000_000,
        max_decode_bytes: 64 << 20,
        max_output_side: 1024,
        ..Limits::default()
    };
    let _ = process(data, &spec, Negotiation::default(), &limits);
});

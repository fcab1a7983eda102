//! The decode entry point on arbitrary bytes: the whole pipeline (probe, plan, decode, resize,
//! encode) under small limits must return an image or a typed error, never panic. Two specs:
//! a 64 px one, and an 8 px one that sends any JPEG of 84 px and up to the 1/8 decoder.
#![no_main]

use imgd_pipeline::{process, Limits, Negotiation};
use imgd_url::parse_canonical;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = Limits {
        max_source_pixels: 4_000_000,
        max_decode_bytes: 64 << 20,
        max_output_side: 1024,
        ..Limits::default()
    };
    for spec in ["w=64&h=64&func=fit&r=30", "w=8&h=8&func=fit"] {
        let spec = parse_canonical(spec).unwrap();
        let _ = process(data, &spec, Negotiation::default(), &limits);
    }
});

//! Signature and seal verification on arbitrary targets: typed results only, never a panic.
#![no_main]

use imgd_url::{parse_request, RemoteUrl, TokenRules, UrlVersion};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let target = String::from_utf8_lossy(data);
    let rules = TokenRules {
        url_version: UrlVersion::Optional,
        origin_prefix: Some(RemoteUrl::parse("https://cdn.test").unwrap()),
        sign_salts: vec!["salt".into(), "other".into()],
        seal_salts: vec!["test".into()],
        ..TokenRules::default()
    };
    let _ = parse_request(&rules, &target);
    let signing_only = TokenRules {
        seal_salts: Vec::new(),
        ..rules.clone()
    };
    let _ = parse_request(&signing_only, &target);
});

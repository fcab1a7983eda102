//! The URL grammar on arbitrary request targets: it must return a spec or a typed error,
//! never panic, and a parsed spec's canonical form must parse back to the same spec.
#![no_main]

use imgd_url::{parse_canonical, parse_request, AliasTarget, RemoteUrl, TokenRules, UrlVersion};
use libfuzzer_sys::fuzz_target;

fn rules() -> TokenRules {
    let mut r = TokenRules {
        url_version: UrlVersion::Optional,
        ..TokenRules::default()
    };
    r.aliases.insert(
        "_s_".into(),
        AliasTarget::Remote(RemoteUrl::parse("https://sample.li/base").unwrap()),
    );
    r.aliases.insert("_f_".into(), AliasTarget::Directory("/srv/img".into()));
    r.presets.insert("thumb".into(), "w=200&h=200&func=crop".into());
    r
}

fuzz_target!(|data: &[u8]| {
    let target = String::from_utf8_lossy(data);
    if let Ok(req) = parse_request(&rules(), &target) {
        let canonical = req.spec.canonical();
        let back = parse_canonical(&canonical).expect("canonical form parses");
        assert_eq!(back, req.spec, "{canonical}");
        let _ = req.origin.canonical();
    }
});

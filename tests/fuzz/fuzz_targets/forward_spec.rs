//! Forward specs and destinations: never panic, and every spec that parses
//! prints (Display) as a spec that parses back to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshtun::spec::{self, ForwardSpec};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for parse in [spec::parse_local, spec::parse_remote, spec::parse_dynamic] {
        if let Ok(parsed) = parse(text) {
            let shown = parsed.to_string();
            let (flag, rest) = shown.split_at(3);
            let again = match flag {
                "-L " => spec::parse_local(rest),
                "-R " => spec::parse_remote(rest),
                _ => spec::parse_dynamic(rest),
            };
            assert_eq!(again.as_ref(), Ok(&parsed), "{text:?} shown as {shown:?}");
            let _: &ForwardSpec = &parsed;
        }
    }
    if let Ok(dest) = spec::parse_destination(text) {
        assert!(!dest.host.is_empty());
        spec::validate_host(&dest.host).unwrap();
    }
});

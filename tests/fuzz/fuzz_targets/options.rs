//! `-o` arguments, one per line: split_option and Options::apply never panic,
//! and whatever is accepted stays accepted when applied again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshtun::options::{Options, split_option};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut options = Options::default();
    for line in text.lines() {
        if let Ok((key, value)) = split_option(line) {
            assert!(!key.is_empty() && !value.is_empty());
            let first = options.apply(&key, &value);
            let second = Options::default().apply(&key, &value);
            assert_eq!(first.is_ok(), second.is_ok(), "{line:?}");
        }
        let _ = Options::default().apply_arg(line);
    }
});

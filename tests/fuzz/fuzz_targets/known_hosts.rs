//! known_hosts lines: parsing and host-pattern matching never panic (and the
//! glob matcher stays linear on hostile patterns).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshtun::known_hosts::{Entry, lookup_name, parse_line};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let Some(first) = lines.next() else {
        return;
    };
    let names: Vec<String> = lines
        .map(str::to_string)
        .chain([
            lookup_name("example.com", 22),
            lookup_name("10.0.0.1", 2222),
        ])
        .collect();
    if let Ok(Some((marker, hosts, key))) = parse_line(first) {
        let entry = Entry {
            file: "fuzz".into(),
            line: 1,
            marker,
            hosts,
            key,
        };
        for name in &names {
            let _ = entry.matches(name);
        }
    }
});

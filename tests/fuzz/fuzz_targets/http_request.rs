//! A request head to the HTTP proxy parser, and a response head to the
//! rewriter: no panic; a forwarded request is itself a well-formed head that
//! parses back to the same target; the rewriter passes every byte after the
//! head through unchanged, however the input is split.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sshtun::proxy_http::parse_request;
use sshtun::proxy_http_response::HeadFilter;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = parse_request(data) {
        assert!(!request.host.is_empty() && request.port != 0);
        if let Some(head) = &request.forward {
            let mut fields = [httparse::EMPTY_HEADER; 128];
            let mut again = httparse::Request::new(&mut fields);
            assert!(matches!(again.parse(head), Ok(httparse::Status::Complete(n)) if n == head.len()));
            assert!(again.path.is_some_and(|p| p.starts_with('/')));
        }
    }
    let split = data.first().map_or(0, |b| usize::from(*b)).min(data.len());
    let (whole, parts) = (filtered(&[data]), filtered(&[&data[..split], &data[split..]]));
    assert_eq!(whole, parts, "the rewriter depends on how the bytes arrive");
});

fn filtered(chunks: &[&[u8]]) -> Vec<u8> {
    let mut filter = HeadFilter::default();
    for chunk in chunks {
        filter.push_all(chunk);
    }
    filter.finish();
    filter.take_pending()
}

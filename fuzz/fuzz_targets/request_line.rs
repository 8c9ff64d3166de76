//! The request-line parser: `RequestSpec::from_json_line` and `build`
//! against a seed product's schema (or none), then the decision, which must
//! equal plain cedar-policy's.
//!
//! Input: a selector byte (bits 0-2: the seed product, 5-7 = no schema),
//! then one request line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rolegrid::RequestSpec;
use rolegrid_fuzz::{authorize_both, seed};

fuzz_target!(|data: &[u8]| {
    let Some((&selector, line)) = data.split_first() else {
        return;
    };
    let Ok(line) = std::str::from_utf8(line) else {
        return;
    };
    let Ok(spec) = RequestSpec::from_json_line(line) else {
        return;
    };
    let product = selector & 0b111;
    let snapshot = seed(product);
    let schema = if product < 5 { snapshot.schema() } else { None };
    if let Ok(request) = spec.build(schema) {
        authorize_both(snapshot, &request, None);
    }
});

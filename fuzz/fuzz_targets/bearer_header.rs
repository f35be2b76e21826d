//! The `Authorization` header parser, in both modes, on any bytes a header value can hold.
#![no_main]

use axum::http::{HeaderMap, HeaderValue, header};
use libfuzzer_sys::fuzz_target;
use scopes_runtime::verifying::bearer::{Credentials, MAX_TOKEN_LENGTH, bearer_credentials};

fuzz_target!(|data: &[u8]| {
    let Ok(value) = HeaderValue::from_bytes(data) else { return };
    let mut headers = HeaderMap::new();
    headers.insert(header::AUTHORIZATION, value);
    for strict in [false, true] {
        if let Credentials::Bearer(token) = bearer_credentials(&headers, strict) {
            assert!(token.len() <= MAX_TOKEN_LENGTH);
            assert!(token.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
        }
    }
});

//! Token verification on any text: it answers, and accepts nothing it did not sign.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use scopes_runtime::Authority;

static AUTHORITY: LazyLock<Authority> =
    LazyLock::new(|| Authority::hs256(b"fuzzing-secret-of-at-least-32-bytes").expect("a long enough secret"));

fuzz_target!(|data: &[u8]| {
    let token = String::from_utf8_lossy(data);
    let _ = AUTHORITY.verify(&token);
});

//! Reading a JWK Set from any text, then verifying any token with it: both answer, neither panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopes_runtime::{Authority, KeySet};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // The first line is the key set, the rest a token to verify with it.
    let (document, token) = text.split_once('\n').unwrap_or((&text, ""));
    if let Ok(keys) = KeySet::from_jwks(document) {
        let _ = keys.kids();
        let _ = Authority::from_key_set(keys, "api").verify(token);
    }
});

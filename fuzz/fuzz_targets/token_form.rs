//! The token request form on any urlencoded body, in both styles' strictness.
#![no_main]

use libfuzzer_sys::fuzz_target;
use scopes_runtime::{issuing::MAX_PASSWORD_BYTES, PasswordRequestForm};

fuzz_target!(|data: &[u8]| {
    let fields: Vec<(String, String)> =
        form_urlencoded::parse(data).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    for strict in [false, true] {
        if let Ok(form) = PasswordRequestForm::from_fields(fields.clone(), strict) {
            assert!(!form.username.is_empty() && !form.password.is_empty());
            assert!(form.password.len() <= MAX_PASSWORD_BYTES);
        }
    }
});

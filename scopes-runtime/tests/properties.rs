//! Properties of the parsers that face untrusted input: the `Authorization` header, the token, and the
//! token request form. Whatever the input, they answer (never panic), and what they accept is well formed.

use axum::http::{HeaderMap, HeaderValue, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use proptest::prelude::*;
use scopes_runtime::verifying::bearer::{Credentials, MAX_TOKEN_LENGTH, bearer_credentials};
use scopes_runtime::{Authority, PasswordRequestForm, Requirement, Scope, registry::Alternatives};

const SECRET: &[u8] = b"property-test-secret-of-enough-length";

/// Bytes a header value can hold: visible ASCII, space, tab and obs-text, but no CR, LF or NUL.
fn header_value() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(prop_oneof![0x20u8..0x7f, Just(b'\t'), 0x80u8..=0xff], 0..300)
}

fn headers(values: &[Vec<u8>]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(header::AUTHORIZATION, HeaderValue::from_bytes(value).expect("a valid header value"));
    }
    headers
}

fn sign(header: &str, payload: &str) -> String {
    let input = format!("{}.{}", URL_SAFE_NO_PAD.encode(header), URL_SAFE_NO_PAD.encode(payload));
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(SECRET), Algorithm::HS256).unwrap();
    format!("{input}.{signature}")
}

/// Arbitrary JSON values, a few levels deep, for claims of every shape.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_filter("finite", |f| f.is_finite()).prop_map(serde_json::Value::from),
        ".{0,12}".prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(".{0,6}", inner, 0..4)
                .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Claims objects whose members are often, but not always, of the right type: reaches the accepting path.
fn claims_object() -> impl Strategy<Value = serde_json::Value> {
    let sub = prop_oneof![json_value(), ".{0,10}".prop_map(serde_json::Value::from)];
    let scopes = prop_oneof![json_value(), prop::collection::vec(".{0,5}", 0..3).prop_map(serde_json::Value::from)];
    let exp = prop_oneof![
        json_value(),
        any::<u64>().prop_map(serde_json::Value::from),
        Just(serde_json::Value::from(4_102_444_800u64))
    ];
    (sub, scopes, exp).prop_map(|(sub, scopes, exp)| serde_json::json!({"sub": sub, "scopes": scopes, "exp": exp}))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn header_parsing_answers_and_accepts_only_clean_tokens(values in prop::collection::vec(header_value(), 0..3)) {
        let headers = headers(&values);
        for strict in [false, true] {
            match bearer_credentials(&headers, strict) {
                // Both schemes are held to one grammar.
                Credentials::Bearer(token) | Credentials::Dpop(token) => {
                    prop_assert!(token.len() <= MAX_TOKEN_LENGTH);
                    prop_assert!(token.bytes().all(|b| b.is_ascii_graphic() || b == b' '));
                    if strict {
                        prop_assert_eq!(values.len(), 1);
                        prop_assert!(!token.is_empty());
                        prop_assert!(token.trim_end_matches('=').bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b)));
                    }
                }
                Credentials::Missing => {
                    // Only when the first header is neither `Bearer` nor `DPoP` (alone, or followed by a space).
                    let scheme_is = |scheme: &[u8]| values.first().is_some_and(|v| {
                        v.eq_ignore_ascii_case(scheme)
                            || (v.len() > scheme.len() && v[..scheme.len()].eq_ignore_ascii_case(scheme) && v[scheme.len()] == b' ')
                    });
                    prop_assert!(!scheme_is(b"bearer") && !scheme_is(b"dpop"));
                }
                Credentials::Malformed(reason) => prop_assert!(!reason.is_empty()),
            }
        }
    }

    #[test]
    fn bearer_scheme_round_trips(token in "[A-Za-z0-9._~+/-]{1,200}=*", scheme in "(?i)bearer") {
        let headers = headers(&[format!("{scheme} {token}").into_bytes()]);
        prop_assert_eq!(bearer_credentials(&headers, true), Credentials::Bearer(token.as_str()));
    }

    #[test]
    fn verification_answers_any_text(token in ".{0,400}") {
        let _ = Authority::hs256(SECRET).unwrap().verify(&token);
    }

    #[test]
    fn verification_answers_any_segments(parts in prop::collection::vec("[A-Za-z0-9_=-]{0,60}", 0..6)) {
        let _ = Authority::hs256(SECRET).unwrap().verify(&parts.join("."));
    }

    #[test]
    fn verification_of_signed_claims_of_any_shape(claims in prop_oneof![json_value(), claims_object()], alg in prop_oneof![Just("HS256".to_owned()), Just("none".to_owned()), Just("HS512".to_owned()), Just("RS256".to_owned()), ".{0,8}"]) {
        let header = serde_json::json!({"alg": alg, "typ": "JWT"}).to_string();
        let token = sign(&header, &claims.to_string());
        if let Ok(verified) = Authority::hs256(SECRET).unwrap().verify(&token) {
            // Accepted only with our algorithm, a subject and a future expiry.
            prop_assert_eq!(alg.as_str(), "HS256");
            prop_assert_eq!(claims["sub"].as_str(), Some(verified.sub.as_str()));
            prop_assert!(claims["exp"].as_u64().is_some());
            let scopes: Vec<String> = claims["scopes"].as_array().map(|list| list.iter().map(|s| s.as_str().unwrap().to_owned()).collect()).unwrap_or_default();
            prop_assert_eq!(verified.scopes, scopes);
        }
    }

    #[test]
    fn a_requirement_is_met_exactly_when_one_alternative_is_held(required in prop::collection::vec(prop::collection::vec("[a-c]{1,2}", 0..4), 1..4), granted in prop::collection::vec("[a-c]{1,2}", 0..6)) {
        let leak = |s: String| -> &'static str { Box::leak(s.into_boxed_str()) };
        let alternatives: Vec<&'static [Scope]> = required
            .iter()
            .map(|scopes| &*Box::leak(scopes.iter().map(|s| Scope::new(leak(s.clone()))).collect::<Vec<_>>().into_boxed_slice()))
            .collect();
        let alternatives: Alternatives = Box::leak(alternatives.into_boxed_slice());
        let requirement = Requirement::new(alternatives);
        let expected = required.iter().any(|scopes| scopes.iter().all(|r| granted.iter().any(|g| g == r)));
        prop_assert_eq!(requirement.is_met_by(&granted), expected);
        // Every alternative reported is enough on its own.
        for alternative in requirement.alternatives() {
            prop_assert!(requirement.is_met_by(&alternative));
        }
    }

    #[test]
    fn form_validation_answers_any_fields(fields in prop::collection::vec(("(grant_type|username|password|scope|client_id|client_secret|.{0,8})", ".{0,100}"), 0..10), strict in any::<bool>()) {
        if let Ok(form) = PasswordRequestForm::from_fields(fields.clone(), strict) {
            prop_assert!(!form.username.is_empty() && !form.password.is_empty());
            prop_assert!(form.password.len() <= scopes_runtime::issuing::MAX_PASSWORD_BYTES);
            prop_assert!(!strict || form.grant_type.as_deref() == Some("password"));
        }
    }
}

/// A JWK Set of one Ed25519 key, `kid` "k", whose pinned algorithm is EdDSA.
const ONE_KEY: &str =
    r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#;

proptest! {
    /// Whatever algorithm and key id a header names, a key set verifies nothing with an algorithm other than
    /// its key's, accepts no token with a forged signature, and never panics.
    #[test]
    fn a_key_set_never_verifies_with_the_headers_choice(
        alg in prop_oneof![
            Just("EdDSA".to_owned()),
            Just("HS256".to_owned()),
            Just("RS256".to_owned()),
            Just("ES256".to_owned()),
            Just("none".to_owned()),
            "[A-Za-z0-9]{0,6}",
        ],
        kid in prop_oneof![Just(Some("k".to_owned())), Just(None), "[a-z]{0,3}".prop_map(Some)],
        payload in json_value(),
        signature in prop::collection::vec(any::<u8>(), 0..80),
    ) {
        let keys = scopes_runtime::KeySet::from_jwks(ONE_KEY).unwrap();
        let authority = Authority::from_key_set(keys, "api").with_any_audience();
        let mut header = serde_json::json!({"alg": alg});
        if let Some(kid) = kid {
            header["kid"] = kid.into();
        }
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(&signature)
        );
        prop_assert!(authority.verify(&token).is_err());
    }
}

proptest! {
    /// Wherever a provider writes the scopes, as a space-separated string or an array, at the top level or
    /// nested under a pointer, the same scopes are read back, in order, and nothing else; a claim of another
    /// type is an error, never a silent empty grant; other claims are kept as they were sent.
    #[test]
    fn every_provider_shape_reads_back_the_same_scopes(
        scopes in prop::collection::vec("[a-z:._-]{1,12}", 0..6),
        padding in " {1,3}",
        other in json_value(),
    ) {
        use scopes_runtime::ScopeClaim;
        use serde_json::json;
        let spaced = scopes.join(&padding);
        let shapes = [
            (ScopeClaim::Scope, json!({ "scope": spaced })),
            (ScopeClaim::Scp, json!({ "scp": spaced })),
            (ScopeClaim::Scp, json!({ "scp": scopes })),
            (ScopeClaim::Scopes, json!({ "scopes": scopes })),
            (ScopeClaim::Permissions, json!({ "permissions": scopes })),
            (ScopeClaim::pointer("/realm_access/roles").unwrap(), json!({ "realm_access": { "roles": scopes } })),
            (ScopeClaim::pointer("/a/b").unwrap(), json!({ "a": { "b": spaced } })),
        ];
        for (claim, mut claims) in shapes {
            claims["other"] = other.clone();
            prop_assert_eq!(claim.read(&claims).unwrap(), scopes.clone(), "{:?} of {}", claim, claims);
        }
        // The wrong type: a number, an object, or an array holding a non-string.
        for wrong in [json!(7), json!({"me": true}), json!(["me", 1])] {
            for claim in [ScopeClaim::Scope, ScopeClaim::Scp, ScopeClaim::Scopes, ScopeClaim::Permissions] {
                let name = match claim { ScopeClaim::Scope => "scope", ScopeClaim::Scp => "scp", ScopeClaim::Scopes => "scopes", _ => "permissions" };
                prop_assert!(claim.read(&json!({ name: wrong.clone() })).is_err(), "{:?} {}", claim, wrong);
            }
        }
    }
}

/// The tokens a client or an attacker may send one authority in turn: valid ones (two sharing a revocable
/// `jti`), tampered payloads under a kept signature, another key's, `none`, expired, not yet valid, and any
/// claims at all.
fn token_of(kind: u8, claims: &serde_json::Value, now: u64) -> String {
    let hs256 = r#"{"alg":"HS256","typ":"JWT"}"#;
    let signed = |payload: serde_json::Value| sign(hs256, &payload.to_string());
    match kind % 8 {
        0 => signed(serde_json::json!({"sub": "johndoe", "scopes": ["me"], "exp": now + 600, "jti": "a"})),
        1 => signed(serde_json::json!({"sub": "alice", "scopes": ["items"], "exp": now + 600, "jti": "b"})),
        2 => {
            // johndoe's signature over a payload that now names admin.
            let genuine = token_of(0, claims, now);
            let mut parts: Vec<&str> = genuine.split('.').collect();
            let forged = URL_SAFE_NO_PAD.encode(
                serde_json::json!({"sub": "admin", "scopes": ["me"], "exp": now + 600, "jti": "a"}).to_string(),
            );
            parts[1] = &forged;
            parts.join(".")
        }
        3 => Authority::hs256(b"someone else's secret of 32 bytes!").unwrap().issue("johndoe", &["me"]).unwrap(),
        4 => sign(r#"{"alg":"none"}"#, &serde_json::json!({"sub": "johndoe", "exp": now + 600}).to_string()),
        5 => signed(serde_json::json!({"sub": "johndoe", "exp": now - 120})),
        6 => signed(serde_json::json!({"sub": "johndoe", "exp": now + 600, "nbf": now + 300})),
        _ => signed(claims.clone()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever sequence of tokens arrives, and whichever are revoked between them, the authority with its
    /// token cache answers each exactly as one verifying every token afresh: the cache never accepts what
    /// the uncached path refuses (nor refuses what it accepts).
    #[test]
    fn the_token_cache_answers_as_verifying_afresh(
        steps in prop::collection::vec((any::<u8>(), any::<bool>(), prop::sample::select(vec!["a", "b", "c"])), 1..40),
        claims in prop_oneof![json_value(), claims_object()],
    ) {
        use scopes_runtime::store::Revoked;
        use scopes_runtime::verifying::Revocations;
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let revocations = Revocations::load(
                |_| async { Ok(Revoked::default()) },
                std::time::Duration::from_secs(1800),
                std::time::Duration::from_secs(3600),
            )
            .await
            .unwrap();
            let cached = Authority::hs256(SECRET).unwrap().with_revocations(revocations.clone());
            let afresh = Authority::hs256(SECRET).unwrap().with_revocations(revocations.clone()).without_token_cache();
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
            for (kind, revoke, jti) in steps {
                if revoke {
                    revocations.add_access_token(jti);
                }
                let token = token_of(kind, &claims, now);
                let (remembered, verified) = (cached.verify_async(&token).await, afresh.verify_async(&token).await);
                prop_assert_eq!(&remembered, &verified, "token kind {}", kind % 8);
                prop_assert_eq!(cached.verify(&token), verified);
            }
            Ok(())
        })?;
    }
}

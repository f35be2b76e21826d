//! The authority's verification of tokens signed with a shared secret: what the seed's tokens are held to.

use jsonwebtoken::{Algorithm, EncodingKey};

use super::*;
use crate::keys::clock::unix_now as now;
use crate::verifying::{ClaimFormat, ScopeClaim};

const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A token with a hand-written header and payload, signed with HMAC-SHA256 over `SECRET`.
fn handmade(header: &str, payload: &str) -> String {
    let signing_input = format!("{}.{}", b64(header.as_bytes()), b64(payload.as_bytes()));
    let signature =
        jsonwebtoken::crypto::sign(signing_input.as_bytes(), &EncodingKey::from_secret(SECRET), Algorithm::HS256)
            .unwrap();
    format!("{signing_input}.{signature}")
}

#[test]
fn round_trip_keeps_subject_and_scopes() {
    let authority = Authority::hs256(SECRET).unwrap();
    let token = authority.issue("johndoe", &["me", "items"]).unwrap();
    let claims = authority.verify(&token).unwrap();
    assert_eq!(claims.sub, "johndoe");
    assert_eq!(claims.scopes, vec!["me", "items"]);
    let lifetime = claims.exp - now();
    assert!((29 * 60..=30 * 60).contains(&lifetime), "exp is issue time + 30 min, got +{lifetime}s");
}

#[test]
fn header_is_the_seeds() {
    let token = Authority::hs256(SECRET).unwrap().issue("johndoe", &["me"]).unwrap();
    let header = token.split('.').next().unwrap();
    use base64::Engine;
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(header).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(header, serde_json::json!({"alg": "HS256", "typ": "JWT"}));
}

#[test]
fn expired_token_is_refused() {
    let authority = Authority::hs256(SECRET).unwrap();
    let token = authority.sign(&Claims::new("johndoe", [""; 0], now() - 1)).unwrap();
    assert_eq!(authority.verify(&token), Err(TokenError::Expired));
}

#[test]
fn leeway_accepts_recently_expired() {
    let authority = Authority::hs256(SECRET).unwrap().with_leeway(Duration::from_secs(60));
    let token = authority.sign(&Claims::new("johndoe", [""; 0], now() - 10)).unwrap();
    assert!(authority.verify(&token).is_ok());
}

#[test]
fn not_before_is_honoured() {
    let authority = Authority::hs256(SECRET).unwrap();
    let token = authority.sign(&Claims { nbf: Some(now() + 300), ..Claims::new("j", [""; 0], now() + 600) }).unwrap();
    assert_eq!(authority.verify(&token), Err(TokenError::NotYetValid));
}

#[test]
fn wrong_key_is_refused() {
    let token = Authority::hs256(b"another secret, also thirty-two bytes").unwrap().issue("johndoe", &["me"]).unwrap();
    assert_eq!(Authority::hs256(SECRET).unwrap().verify(&token), Err(TokenError::BadSignature));
}

#[test]
fn other_algorithms_are_refused() {
    let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
    for alg in ["HS384", "HS512", "RS256", "ES256"] {
        let token = handmade(&format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#), &payload);
        assert_eq!(Authority::hs256(SECRET).unwrap().verify(&token), Err(TokenError::WrongAlgorithm), "{alg}");
    }
}

#[test]
fn alg_none_is_refused_in_any_spelling() {
    let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
    for alg in ["none", "None", "NONE", "nOnE"] {
        let unsigned =
            format!("{}.{}.", b64(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#).as_bytes()), b64(payload.as_bytes()));
        assert!(Authority::hs256(SECRET).unwrap().verify(&unsigned).is_err(), "{alg}");
    }
}

#[test]
fn exp_is_required_and_numeric() {
    let authority = Authority::hs256(SECRET).unwrap();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let missing = handmade(header, r#"{"sub":"johndoe","scopes":["me"]}"#);
    assert!(matches!(authority.verify(&missing), Err(TokenError::InvalidClaims(_))));
    let string = handmade(header, &format!(r#"{{"sub":"johndoe","exp":"{}"}}"#, now() + 600));
    assert!(authority.verify(&string).is_err());
}

#[test]
fn claims_of_the_wrong_type_are_refused() {
    let authority = Authority::hs256(SECRET).unwrap();
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let exp = now() + 600;
    for payload in [
        format!(r#"{{"scopes":["me"],"exp":{exp}}}"#),
        format!(r#"{{"sub":42,"scopes":["me"],"exp":{exp}}}"#),
        format!(r#"{{"sub":"johndoe","scopes":"me","exp":{exp}}}"#),
        format!(r#"{{"sub":"johndoe","scopes":[1],"exp":{exp}}}"#),
    ] {
        assert!(authority.verify(&handmade(header, &payload)).is_err(), "{payload}");
    }
}

#[test]
fn malformed_tokens_are_refused() {
    let authority = Authority::hs256(SECRET).unwrap();
    let good = authority.issue("johndoe", &["me"]).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    for token in [
        String::new(),
        "abc".into(),
        format!("{}.{}", parts[0], parts[1]),
        format!("{good}.extra"),
        format!("{}.{}.{}", parts[0], b64(b"not json"), parts[2]),
    ] {
        assert!(authority.verify(&token).is_err(), "{token}");
    }
}

#[test]
fn edited_payload_fails_the_signature() {
    let authority = Authority::hs256(SECRET).unwrap();
    let good = authority.issue("johndoe", &["me"]).unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let payload = format!(r#"{{"sub":"johndoe","scopes":["me","items"],"exp":{}}}"#, now() + 600);
    let forged = format!("{}.{}.{}", parts[0], b64(payload.as_bytes()), parts[2]);
    assert_eq!(authority.verify(&forged), Err(TokenError::BadSignature));
}

#[test]
fn secrets_shorter_than_32_bytes_are_refused() {
    assert_eq!(Authority::hs256([0u8; 31]).err(), Some(KeyError::TooShort { length: 31, minimum: 32 }));
    assert!(Authority::hs256([0u8; 32]).is_ok());
}

#[test]
fn scope_string_format_round_trips_and_refuses_a_list() {
    let authority = Authority::hs256(SECRET).unwrap().with_claim_format(ClaimFormat::ScopeString);
    let token = authority.issue("johndoe", &["me", "items"]).unwrap();
    let payload: serde_json::Value = {
        use base64::Engine;
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    assert_eq!(payload["scope"], "me items");
    assert!(payload.get("scopes").is_none());
    assert_eq!(authority.verify(&token).unwrap().scopes, ["me", "items"]);

    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let list = handmade(header, &format!(r#"{{"sub":"j","scope":["me"],"exp":{}}}"#, now() + 600));
    assert!(matches!(authority.verify(&list), Err(TokenError::InvalidClaims(_))));
    let number = handmade(header, &format!(r#"{{"sub":"j","scope":7,"exp":{}}}"#, now() + 600));
    assert!(matches!(authority.verify(&number), Err(TokenError::InvalidClaims(_))));
}

#[test]
fn issuer_and_audience_are_required_when_configured() {
    let plain = Authority::hs256(SECRET).unwrap();
    let strict = Authority::hs256(SECRET).unwrap().with_issuer("https://auth.example").with_audience("api");
    let strict_token = strict.issue("johndoe", &["me"]).unwrap();
    assert!(strict.verify(&strict_token).is_ok());
    assert!(plain.verify(&strict_token).is_ok(), "an unconfigured verifier ignores iss and aud");
    let plain_token = plain.issue("johndoe", &["me"]).unwrap();
    assert!(matches!(strict.verify(&plain_token), Err(TokenError::InvalidClaims(_))));
    let other_audience = Authority::hs256(SECRET).unwrap().with_issuer("https://auth.example").with_audience("other");
    assert!(strict.verify(&other_audience.issue("johndoe", &["me"]).unwrap()).is_err());
}

#[test]
fn an_audience_may_be_a_list() {
    // RFC 7519 §4.1.3: `aud` is one string or an array of them.
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let with_audiences = |audiences: &str| {
        handmade(header, &format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{},"aud":{audiences}}}"#, now() + 600))
    };
    let api = Authority::hs256(SECRET).unwrap().with_audience("api");
    assert!(api.verify(&with_audiences(r#"["other","api"]"#)).is_ok());
    assert!(matches!(api.verify(&with_audiences(r#"["other"]"#)), Err(TokenError::InvalidClaims(_))));
    let plain = Authority::hs256(SECRET).unwrap();
    assert_eq!(plain.verify(&with_audiences(r#"["other"]"#)).unwrap().sub, "johndoe");
}

#[test]
fn critical_extensions_are_refused() {
    let authority = Authority::hs256(SECRET).unwrap();
    let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
    for header in [
        r#"{"alg":"HS256","typ":"JWT","crit":["exp"]}"#,
        r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
        r#"{"alg":"HS256","crit":[]}"#,
        r#"{"alg":"HS256","cr\u0069t":["x"]}"#,
    ] {
        assert_eq!(authority.verify(&handmade(header, &payload)), Err(TokenError::CriticalExtension), "{header}");
    }
    let other_but_fine = handmade(r#"{"alg":"HS256","kid":"k1"}"#, &payload);
    assert!(authority.verify(&other_but_fine).is_ok());
    assert!(authority.verify(&authority.issue("johndoe", &["me"]).unwrap()).is_ok());
}

#[test]
fn kid_is_ignored_there_is_one_key() {
    let payload = format!(r#"{{"sub":"johndoe","scopes":["me"],"exp":{}}}"#, now() + 600);
    for kid in ["../../../../dev/null", "/etc/passwd", "' OR 1=1 --", ""] {
        let header = format!(r#"{{"alg":"HS256","typ":"JWT","kid":"{kid}"}}"#);
        assert!(Authority::hs256(SECRET).unwrap().verify(&handmade(&header, &payload)).is_ok(), "{kid}");
        let forged = handmade(&header, &payload);
        let other = Authority::hs256(b"a different secret of enough length!!").unwrap();
        assert_eq!(other.verify(&forged), Err(TokenError::BadSignature), "{kid}");
    }
}

#[test]
fn a_policy_of_several_audiences_takes_a_token_for_any_of_them_and_nothing_else() {
    let authority = Authority::hs256(SECRET)
        .unwrap()
        .with_policy(|policy| policy.with_audiences(["https://api.example", "https://api.example/v2"]));
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let for_audience =
        |aud: &str| handmade(header, &format!(r#"{{"sub":"j","scopes":[],"exp":{},"aud":{aud}}}"#, now() + 600));
    assert!(authority.verify(&for_audience(r#""https://api.example""#)).is_ok());
    assert!(authority.verify(&for_audience(r#"["other", "https://api.example/v2"]"#)).is_ok());
    assert!(matches!(authority.verify(&for_audience(r#""https://other.example""#)), Err(TokenError::InvalidClaims(_))));
    let without = handmade(header, &format!(r#"{{"sub":"j","scopes":[],"exp":{}}}"#, now() + 600));
    assert!(matches!(authority.verify(&without), Err(TokenError::InvalidClaims(_))), "`aud` is required");
}

#[test]
fn a_required_claim_is_required_of_every_kind_of_token() {
    let authority = Authority::hs256(SECRET).unwrap().with_policy(|policy| policy.with_required_claim("jti"));
    let plain = authority.issue("johndoe", &["me"]).unwrap();
    assert_eq!(authority.verify(&plain), Err(TokenError::InvalidClaims("`jti` is missing".into())));
    let stamped = authority.clone().with_token_ids();
    assert_eq!(stamped.verify(&stamped.issue("johndoe", &["me"]).unwrap()).unwrap().scopes, ["me"]);
}

#[test]
fn the_scope_claim_applies_to_a_shared_secret_too() {
    let header = r#"{"alg":"HS256","typ":"JWT"}"#;
    let token =
        handmade(header, &format!(r#"{{"sub":"j","scp":["me","items"],"scopes":["admin"],"exp":{}}}"#, now() + 600));
    let authority = Authority::hs256(SECRET).unwrap().with_scope_claim(ScopeClaim::Scp);
    let claims = authority.verify(&token).unwrap();
    assert_eq!(claims.scopes, ["me", "items"], "read from `scp`, not the seed's `scopes`");
    assert!(!claims.extra.contains_key("scp"), "the claim read is not repeated in `extra`");
}

mod token_cache {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;
    use crate::store::Revoked;
    use crate::verifying::Verifying;

    /// An app's verifier that counts its calls, with or without a key epoch.
    #[derive(Debug)]
    struct Counting {
        inner: Authority,
        calls: Arc<AtomicUsize>,
        epoch: Option<u64>,
    }

    impl Verifier for Counting {
        fn verify<'a>(&'a self, token: &'a str, _: &'a Policy) -> Verifying<'a> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            Verifying::ready(self.inner.verify(token))
        }

        fn key_epoch(&self) -> Option<u64> {
            self.epoch
        }
    }

    async fn nothing_revoked() -> Revocations {
        let load = |_| async { Ok(Revoked::default()) };
        Revocations::load(load, Duration::from_secs(1800), Duration::from_secs(60)).await.unwrap()
    }

    fn counting(epoch: Option<u64>) -> (Authority, Arc<AtomicUsize>) {
        let calls = Arc::new(AtomicUsize::new(0));
        let inner = Authority::hs256(SECRET).unwrap().without_token_cache();
        let verifier = Counting { inner, calls: calls.clone(), epoch };
        (Authority::from_verifier(verifier, Policy::new()), calls)
    }

    #[test]
    fn a_token_is_verified_once_and_then_answered_from_the_cache() {
        let (authority, calls) = counting(Some(0));
        let token = Authority::hs256(SECRET).unwrap().issue("johndoe", &["me"]).unwrap();
        for _ in 0..5 {
            assert_eq!(authority.verify(&token).unwrap().scopes, ["me"]);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // A forged token: refused once by the verifier, then from the cache, never accepted.
        let forged =
            Authority::hs256(b"another secret, of thirty-two bytes").unwrap().issue("johndoe", &["me"]).unwrap();
        for _ in 0..3 {
            assert_eq!(authority.verify(&forged).unwrap_err(), TokenError::BadSignature);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn an_app_verifier_without_a_key_epoch_is_asked_every_time() {
        let (authority, calls) = counting(None);
        let token = Authority::hs256(SECRET).unwrap().issue("johndoe", &["me"]).unwrap();
        for _ in 0..3 {
            assert!(authority.verify(&token).is_ok());
        }
        assert_eq!(calls.load(Ordering::SeqCst), 3);
        assert!(authority.token_cache().is_some_and(TokenCache::is_empty));
    }

    #[test]
    fn without_the_cache_every_token_is_verified() {
        let authority = Authority::hs256(SECRET).unwrap().without_token_cache();
        let token = authority.issue("johndoe", &["me"]).unwrap();
        assert!(authority.verify(&token).is_ok() && authority.token_cache().is_none());
    }

    #[test]
    fn changed_settings_start_an_empty_cache() {
        let authority = Authority::hs256(SECRET).unwrap();
        let token = authority.issue("johndoe", &["me"]).unwrap();
        assert!(authority.verify(&token).is_ok());
        assert_eq!(authority.token_cache().unwrap().len(), 1);
        // Held to an issuer now: the remembered answer (made without that check) is not used.
        let stricter = authority.clone().with_issuer("https://auth.example");
        assert!(stricter.token_cache().unwrap().is_empty());
        assert!(stricter.verify(&token).is_err(), "the token has no `iss`");
        assert!(authority.verify(&token).is_ok(), "the first authority keeps its own");
    }

    #[tokio::test]
    async fn a_revoked_token_is_refused_through_the_cache_at_once() {
        let revocations = nothing_revoked().await;
        let authority = Authority::hs256(SECRET).unwrap().with_revocations(revocations.clone());
        let mut claims = Claims::new("johndoe", ["me"], now() + 600);
        claims.extra.insert("jti".into(), "j-1".into());
        claims.extra.insert("sid".into(), "family-1".into());
        let token = authority.sign(&claims).unwrap();
        assert!(authority.verify_async(&token).await.is_ok());
        assert!(authority.verify_async(&token).await.is_ok());
        assert_eq!(authority.token_cache().unwrap().len(), 1, "remembered");
        revocations.add_family("family-1");
        assert_eq!(authority.verify_async(&token).await.unwrap_err(), TokenError::Revoked);
        assert_eq!(authority.verify(&token).unwrap_err(), TokenError::Revoked);
    }

    /// Forty tasks on four threads verify one token and many distinct ones while it is revoked halfway:
    /// every answer after the revocation is a refusal, and nothing else is lost or mixed up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_verifications_agree_and_see_a_revocation() {
        let revocations = nothing_revoked().await;
        let authority = Authority::hs256(SECRET).unwrap().with_revocations(revocations.clone());
        let signed = |sub: String, jti: &str| {
            let mut claims = Claims::new(sub, ["me"], now() + 600);
            claims.extra.insert("jti".into(), jti.into());
            authority.sign(&claims).unwrap()
        };
        let shared = signed("johndoe".into(), "shared");
        let revoked = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut tasks = Vec::new();
        for task in 0..40 {
            let (authority, shared, revoked) = (authority.clone(), shared.clone(), revoked.clone());
            let own: Vec<String> =
                (0..50).map(|n| signed(format!("user-{task}-{n}"), &format!("{task}-{n}"))).collect();
            tasks.push(tokio::spawn(async move {
                for (n, token) in own.iter().enumerate() {
                    assert_eq!(authority.verify_async(token).await.unwrap().sub, format!("user-{task}-{n}"));
                    let was_revoked = revoked.load(Ordering::SeqCst);
                    let answer = authority.verify_async(&shared).await;
                    if was_revoked {
                        assert_eq!(answer.unwrap_err(), TokenError::Revoked);
                    }
                    tokio::task::yield_now().await;
                }
            }));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        revocations.add_access_token("shared");
        revoked.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(authority.verify_async(&shared).await.unwrap_err(), TokenError::Revoked);
        assert!(authority.token_cache().unwrap().len() > 40 * 50 / 2, "the distinct tokens were remembered");
    }
}

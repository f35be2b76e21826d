//! Requests with DPoP-bound tokens (RFC 9449) and what they are answered: shared by the tests of the demo's
//! own tokens and of a provider's.

use reqwest::StatusCode;
use scopes_runtime::testing::DpopKey;
use scopes_runtime::verifying::dpop::access_token_hash;
use serde_json::{Value, json};

use crate::server::RunningDemo;
use crate::tokens::now;

/// What the demo answered: the status, the `WWW-Authenticate` header, and the body.
pub struct Answer {
    pub status: StatusCode,
    pub challenge: String,
    pub body: Value,
}

/// `GET path` at `demo` with `authorization` and, when given, a `DPoP` proof header.
pub async fn get(demo: &RunningDemo, path: &str, authorization: Option<String>, proof: Option<String>) -> Answer {
    let mut request = reqwest::Client::new().get(format!("{}{path}", demo.base));
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.expect("the demo answers");
    let status = response.status();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().expect("ASCII").to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer { status, challenge, body }
}

/// A `GET path` with `token` under the DPoP scheme and `proof`.
pub async fn with_proof(demo: &RunningDemo, path: &str, token: &str, proof: String) -> Answer {
    get(demo, path, Some(format!("DPoP {token}")), Some(proof)).await
}

/// Asserts `answer` is the RFC style's refusal of a proof: 401 `invalid_dpop_proof`, with a `DPoP` challenge.
pub fn assert_proof_refused(answer: &Answer, what: &str) {
    assert_eq!(answer.status, 401, "{what}");
    assert_eq!(answer.body["error"], "invalid_dpop_proof", "{what}: {}", answer.body);
    assert!(answer.challenge.starts_with("DPoP "), "{what}: {}", answer.challenge);
    assert!(answer.challenge.contains(r#"error="invalid_dpop_proof""#), "{what}: {}", answer.challenge);
}

/// Proofs for `GET url` with `token` that must each be refused, and why: by `key` for another method, for
/// another URL (`other_url`), stale, or for another token; and by `thief`, another key.
pub fn bad_proofs(
    key: &DpopKey,
    thief: &DpopKey,
    url: &str,
    other_url: &str,
    token: &str,
) -> Vec<(&'static str, String)> {
    let claims = |changes: Value| {
        let mut claims =
            json!({"jti": key.fresh_jti(), "htm": "GET", "htu": url, "iat": now(), "ath": access_token_hash(token)});
        for (name, value) in changes.as_object().expect("an object") {
            claims[name] = value.clone();
        }
        key.proof_with_claims(&claims)
    };
    vec![
        ("a proof for another method", claims(json!({"htm": "POST"}))),
        ("a proof for another URL", claims(json!({"htu": other_url}))),
        ("a stale proof", claims(json!({"iat": now() - 600}))),
        ("a proof for another token", claims(json!({"ath": access_token_hash("another.access.token")}))),
        ("a proof by another key", thief.proof("GET", url, Some(token))),
    ]
}

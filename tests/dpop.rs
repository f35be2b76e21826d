//! DPoP-bound tokens (RFC 9449) at the demo binary, over TCP: a bound token reads with a proof of its key
//! and with nothing else; each kind of bad proof is refused with the RFC's challenge; a proof used once is
//! refused again, also at a second replica sharing Redis; bearer tokens still read where DPoP is allowed,
//! and not where it is required; with DPoP off, a bound token is refused rather than taken as a bearer token.
//! The demo's own token endpoint binds the tokens of a login with a proof, its refresh tokens included.

use reqwest::StatusCode;
use scopes_runtime::Claims;
use scopes_runtime::testing::DpopKey;
use scopes_tests::SECRET;
use scopes_tests::dpop::{assert_proof_refused, bad_proofs, get, with_proof};
use scopes_tests::redis;
use scopes_tests::server::{RunningDemo, start_demo_with};
use scopes_tests::tokens::{now, payload, signed, with_claims};
use serde_json::{Value, json};

const ITEMS: &str = "/users/me/items/";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("a runtime")
}

/// A token for johndoe granting `me items`, bound to `key`.
fn bound_token(key: &DpopKey) -> String {
    let mut claims = Claims::new("johndoe", ["me", "items"], now() + 600);
    key.bind(&mut claims);
    with_claims(&claims)
}

#[test]
fn a_bound_token_reads_with_a_proof_of_its_key_and_each_bad_proof_is_refused() {
    let demo = start_demo_with(Some(SECRET), &["--dpop", "allowed", "--style", "rfc"]);
    let url = format!("{}{ITEMS}", demo.base);
    let (key, thief) = (DpopKey::generate(), DpopKey::generate());
    let token = bound_token(&key);
    runtime().block_on(async {
        let good = key.proof("GET", &url, Some(&token));
        let read = with_proof(&demo, ITEMS, &token, good.clone()).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_eq!(read.body[0]["owner"], "johndoe");
        assert_proof_refused(&with_proof(&demo, ITEMS, &token, good).await, "the same proof again");

        let other_url = format!("{}/users/me/", demo.base);
        for (what, proof) in bad_proofs(&key, &thief, &url, &other_url, &token) {
            assert_proof_refused(&with_proof(&demo, ITEMS, &token, proof).await, what);
        }
        let no_proof = get(&demo, ITEMS, Some(format!("DPoP {token}")), None).await;
        assert_proof_refused(&no_proof, "no proof");

        // The bound token as a bearer token: refused, and the challenge offers both schemes.
        let as_bearer = get(&demo, ITEMS, Some(format!("Bearer {token}")), None).await;
        assert_eq!(as_bearer.status, 401);
        assert_eq!(as_bearer.body["error"], "invalid_token");
        assert!(
            as_bearer.challenge.starts_with(r#"Bearer realm="scopes demo", error="invalid_token""#),
            "{}",
            as_bearer.challenge
        );
        assert!(
            as_bearer.challenge.contains(r#"DPoP realm="scopes demo", error="invalid_token""#),
            "{}",
            as_bearer.challenge
        );
        assert!(as_bearer.challenge.contains(r#"algs="ES256 ES384 EdDSA PS256"#), "{}", as_bearer.challenge);

        // Where DPoP is allowed, a bearer token still reads, and a request without one is told both ways.
        let bearer = signed("johndoe", &["me", "items"]);
        assert_eq!(get(&demo, ITEMS, Some(format!("Bearer {bearer}")), None).await.status, 200);
        let anonymous = get(&demo, ITEMS, None, None).await;
        assert_eq!(anonymous.status, 401);
        assert!(
            anonymous.challenge.starts_with(r#"Bearer realm="scopes demo", DPoP realm="scopes demo", algs=""#),
            "{}",
            anonymous.challenge
        );
        // A bearer token under the DPoP scheme is not DPoP-bound.
        let unbound = with_proof(&demo, ITEMS, &bearer, key.proof("GET", &url, Some(&bearer))).await;
        assert_eq!((unbound.status, unbound.body["error"].as_str()), (StatusCode::UNAUTHORIZED, Some("invalid_token")));
    });
}

#[test]
fn where_dpop_is_required_a_bearer_token_is_refused_with_a_dpop_challenge() {
    let demo = start_demo_with(Some(SECRET), &["--dpop", "required", "--style", "rfc"]);
    let key = DpopKey::generate();
    let token = bound_token(&key);
    runtime().block_on(async {
        let read =
            with_proof(&demo, ITEMS, &token, key.proof("GET", &format!("{}{ITEMS}", demo.base), Some(&token))).await;
        assert_eq!(read.status, 200, "{}", read.body);
        let bearer = get(&demo, ITEMS, Some(format!("Bearer {}", signed("johndoe", &["me", "items"]))), None).await;
        assert_eq!(bearer.status, 401);
        assert!(
            bearer.challenge.starts_with(r#"DPoP realm="scopes demo", error="invalid_token""#),
            "{}",
            bearer.challenge
        );
        assert!(!bearer.challenge.contains("Bearer"), "{}", bearer.challenge);
        let anonymous = get(&demo, ITEMS, None, None).await;
        assert!(anonymous.challenge.starts_with(r#"DPoP realm="scopes demo", algs=""#), "{}", anonymous.challenge);
        // The document says so on each guarded operation, and the protected-resource metadata for the API.
        let document = get(&demo, "/openapi.json", None, None).await.body;
        let items = &document["paths"][ITEMS]["get"];
        assert_eq!(items["x-scopes-assurance"]["dpop"], "required", "{items}");
        assert!(items["description"].as_str().unwrap_or_default().contains("DPoP-bound tokens only"), "{items}");
        assert!(document["paths"]["/token"]["post"].get("x-scopes-assurance").is_none(), "a public route");
    });
}

#[test]
fn with_dpop_off_a_bound_token_is_refused_either_way() {
    // The seed's answers, as the demo gives by default.
    let demo = start_demo_with(Some(SECRET), &[]);
    let key = DpopKey::generate();
    let token = bound_token(&key);
    runtime().block_on(async {
        let as_bearer = get(&demo, ITEMS, Some(format!("Bearer {token}")), None).await;
        assert_eq!(
            (as_bearer.status, &as_bearer.body),
            (StatusCode::UNAUTHORIZED, &json!({"detail": "Could not validate credentials"}))
        );
        assert_eq!(as_bearer.challenge, r#"Bearer scope="items me""#);
        let url = format!("{}{ITEMS}", demo.base);
        let with_proof = with_proof(&demo, ITEMS, &token, key.proof("GET", &url, Some(&token))).await;
        assert_eq!(
            (with_proof.status, &with_proof.body),
            (StatusCode::UNAUTHORIZED, &json!({"detail": "Not authenticated"}))
        );
        // A token bound some way nothing here checks (mTLS, RFC 8705) is refused too.
        let mut claims = Claims::new("johndoe", ["me", "items"], now() + 600);
        claims.extra.insert("cnf".into(), json!({"x5t#S256": "bwcK0esc3ACC3DB2Y5_lESsXE8o9ltc05O89jdN-dg2"}));
        let mtls = get(&demo, ITEMS, Some(format!("Bearer {}", with_claims(&claims))), None).await;
        assert_eq!(mtls.status, 401);
    });
}

#[test]
fn a_proof_used_at_one_replica_is_refused_at_another_sharing_redis() {
    let redis_url = redis::shared().fresh_url();
    let public = "https://api.example";
    let args = ["--dpop", "required", "--style", "rfc", "--public-url", public, "--redis-url", redis_url.as_str()];
    let (first, second) = (start_demo_with(Some(SECRET), &args), start_demo_with(Some(SECRET), &args));
    let key = DpopKey::generate();
    let token = bound_token(&key);
    runtime().block_on(async {
        let proof = key.proof("GET", &format!("{public}{ITEMS}"), Some(&token));
        let read = with_proof(&first, ITEMS, &token, proof.clone()).await;
        assert_eq!(read.status, 200, "{}", read.body);
        assert_proof_refused(&with_proof(&second, ITEMS, &token, proof).await, "replayed at the second replica");
        let fresh = key.proof("GET", &format!("{public}{ITEMS}"), Some(&token));
        assert_eq!(with_proof(&second, ITEMS, &token, fresh).await.status, 200);
        // The proof names the public URL, not the address the replica was reached at.
        let local = key.proof("GET", &format!("{}{ITEMS}", second.base), Some(&token));
        assert_proof_refused(&with_proof(&second, ITEMS, &token, local).await, "a proof for the replica's own address");
    });
}

/// `POST /token` at `demo` with `fields`, and a DPoP proof of `key` for it when one is given (by `key`, for
/// the URL `htu`); the status and the JSON body.
async fn token_request(demo: &RunningDemo, fields: &[(&str, &str)], proof: Option<String>) -> (StatusCode, Value) {
    let mut request = reqwest::Client::new().post(format!("{}/token", demo.base)).form(fields);
    if let Some(proof) = proof {
        request = request.header("dpop", proof);
    }
    let response = request.send().await.expect("the demo answers");
    (response.status(), response.json().await.unwrap_or(Value::Null))
}

fn johndoe_login() -> [(&'static str, &'static str); 4] {
    [("grant_type", "password"), ("username", "johndoe"), ("password", "secret"), ("scope", "me items")]
}

#[test]
fn the_demos_own_token_endpoint_binds_its_tokens_to_the_proofs_key() {
    // An issuer (ES256 keys, discovery), and a resource server for it: both take DPoP.
    let issuer = start_demo_with(None, &["--signing-alg", "ES256", "--dpop", "allowed", "--style", "rfc"]);
    let resource = start_demo_with(
        None,
        &["--issuer", &issuer.base, "--audience", &issuer.base, "--dpop", "allowed", "--style", "rfc"],
    );
    let (key, thief) = (DpopKey::generate(), DpopKey::generate());
    let token_url = format!("{}/token", issuer.base);
    runtime().block_on(async {
        let (status, body) = token_request(&issuer, &johndoe_login(), Some(key.proof("POST", &token_url, None))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["token_type"], "DPoP");
        let token = body["access_token"].as_str().expect("an access token").to_owned();
        assert_eq!(payload(&token)["cnf"]["jkt"], key.thumbprint());

        for demo in [&issuer, &resource] {
            let url = format!("{}{ITEMS}", demo.base);
            let read = with_proof(demo, ITEMS, &token, key.proof("GET", &url, Some(&token))).await;
            assert_eq!(read.status, 200, "{}: {}", demo.base, read.body);
            let as_bearer = get(demo, ITEMS, Some(format!("Bearer {token}")), None).await;
            assert_eq!(as_bearer.status, 401, "{}: the bound token as a bearer token", demo.base);
            let stolen = with_proof(demo, ITEMS, &token, thief.proof("GET", &url, Some(&token))).await;
            assert_proof_refused(&stolen, "a proof by another key");
        }

        // The refresh token is bound too: refreshed only with a proof by the same key, and a refusal costs
        // the client nothing (the token stays current).
        let refresh_token = body["refresh_token"].as_str().expect("a refresh token").to_owned();
        let refresh = [("grant_type", "refresh_token"), ("refresh_token", refresh_token.as_str())];
        for (what, proof) in [("no proof", None), ("another key's proof", Some(thief.proof("POST", &token_url, None)))]
        {
            let (status, body) = token_request(&issuer, &refresh, proof).await;
            assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("invalid_dpop_proof")), "{what}: {body}");
        }
        let (status, body) = token_request(&issuer, &refresh, Some(key.proof("POST", &token_url, None))).await;
        assert_eq!((status.as_u16(), body["token_type"].as_str()), (200, Some("DPoP")), "{body}");
        let refreshed = body["access_token"].as_str().expect("an access token");
        assert_eq!(payload(refreshed)["cnf"]["jkt"], key.thumbprint());

        // A proof for another URL is refused; a login without one gets bearer tokens, as before.
        let elsewhere = key.proof("POST", &format!("{}/elsewhere", issuer.base), None);
        let (status, body) = token_request(&issuer, &johndoe_login(), Some(elsewhere)).await;
        assert_eq!((status.as_u16(), body["error"].as_str()), (400, Some("invalid_dpop_proof")), "{body}");
        let (status, body) = token_request(&issuer, &johndoe_login(), None).await;
        assert_eq!((status.as_u16(), body["token_type"].as_str()), (200, Some("bearer")), "{body}");
    });
}

#[test]
fn where_dpop_is_required_a_login_without_a_proof_is_refused() {
    let demo = start_demo_with(Some(SECRET), &["--dpop", "required"]);
    runtime().block_on(async {
        let (status, body) = token_request(&demo, &johndoe_login(), None).await;
        assert_eq!((status.as_u16(), &body), (400, &json!({"detail": "Invalid DPoP proof"})));
        let key = DpopKey::generate();
        let proof = key.proof("POST", &format!("{}/token", demo.base), None);
        let (status, body) = token_request(&demo, &johndoe_login(), Some(proof)).await;
        assert_eq!((status.as_u16(), body["token_type"].as_str()), (200, Some("DPoP")), "{body}");
    });
}

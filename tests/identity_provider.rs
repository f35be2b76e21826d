//! The demo as a resource server (`--issuer`, `--audience`) for a real OpenID provider, node's
//! `oidc-provider`: tokens of every algorithm it signs with, forged and foreign ones, a key rotation, an
//! outage, a start-up before the provider, forged `kid`s against the key-set fetching, and the documents
//! that point clients at the provider; DPoP-bound tokens it issues, taken only with a proof of their key;
//! opaque tokens read through introspection, with its cache, its one call for a crowd, revocations and an
//! outage.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scopes_runtime::testing::DpopKey;
use scopes_tests::dpop::{assert_proof_refused, bad_proofs, with_proof};
use scopes_tests::provider::{AUDIENCE, RunningProvider, generate_keys, keys_then};
use scopes_tests::server::{RunningDemo, start_demo_with};
use serde_json::{Value, json};

/// The route the tests read through.
const ITEMS: &str = "/users/me/items/";

const ALGORITHMS: [&str; 4] = ["RS256", "PS256", "ES256", "EdDSA"];

fn every_algorithm() -> Value {
    generate_keys(&["r1:RS256", "p1:PS256", "e1:ES256", "d1:EdDSA"])
}

fn demo_for(issuer: &str, audience: &str) -> RunningDemo {
    start_demo_with(None, &["--issuer", issuer, "--audience", audience])
}

/// Status, `WWW-Authenticate`, and body of `GET path` with `token`.
async fn get(demo: &RunningDemo, path: &str, token: Option<&str>) -> (u16, String, Value) {
    let mut request = reqwest::Client::new().get(format!("{}{path}", demo.base));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.expect("the demo answers");
    let status = response.status().as_u16();
    let challenge = response
        .headers()
        .get("www-authenticate")
        .map(|value| value.to_str().unwrap_or_default().to_owned())
        .unwrap_or_default();
    let body = response.json().await.unwrap_or(Value::Null);
    (status, challenge, body)
}

fn items_of_johndoe() -> Value {
    json!([{"item_id": "Foo", "owner": "johndoe"}])
}

/// Polls `GET path` with `token` until it answers 200, for at most `limit`; how long it took.
async fn accepted_within(demo: &RunningDemo, token: &str, limit: Duration) -> Duration {
    let started = Instant::now();
    loop {
        let (status, _, body) = get(demo, "/users/me/items/", Some(token)).await;
        if status == 200 {
            assert_eq!(body, items_of_johndoe());
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "still refused ({status}) after {limit:?}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn segments(token: &str) -> (Value, Value, String) {
    let parts: Vec<&str> = token.split('.').collect();
    let decode = |part: &str| serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap();
    (decode(parts[0]), decode(parts[1]), parts[2].to_owned())
}

fn encode(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

#[tokio::test]
async fn tokens_of_every_algorithm_read_the_items() {
    let provider = RunningProvider::start(&every_algorithm(), 0);
    let demo = demo_for(&provider.issuer, AUDIENCE);
    for alg in ALGORITHMS {
        let token = provider.token(alg, "me items").await;
        let (header, claims, _) = segments(&token);
        assert_eq!((header["alg"].as_str(), header["typ"].as_str()), (Some(alg), Some("at+jwt")));
        assert_eq!(claims["sub"], "johndoe");
        let (status, _, body) = get(&demo, "/users/me/items/", Some(&token)).await;
        assert_eq!((status, body), (200, items_of_johndoe()), "{alg}");
        let (status, _, me) = get(&demo, "/users/me/", Some(&token)).await;
        assert_eq!(status, 200, "{alg}");
        assert_eq!(me, json!({"username": "johndoe", "email": null, "full_name": null, "disabled": false}));
    }
}

#[tokio::test]
async fn forged_foreign_and_short_tokens_are_refused_with_a_challenge() {
    let keys = every_algorithm();
    let provider = RunningProvider::start(&keys, 0);
    let untrusted = RunningProvider::start(&generate_keys(&["u1:RS256"]), 0);
    let demo = demo_for(&provider.issuer, AUDIENCE);
    let elsewhere = demo_for(&provider.issuer, "https://another-api.example");

    let good = provider.token("RS256", "me items").await;
    let (header, claims, signature) = segments(&good);
    let public_rsa = keys["keys"][0].clone();
    let hmac_with_public_key = {
        let header = json!({"alg": "HS256", "typ": "at+jwt", "kid": "r1"});
        let input = format!("{}.{}", encode(&header), encode(&claims));
        // The classic confusion: the public key's own bytes as an HMAC secret.
        let secret = json!({"kty": "RSA", "n": public_rsa["n"], "e": public_rsa["e"]}).to_string();
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        let mac = jsonwebtoken::crypto::sign(input.as_bytes(), &key, jsonwebtoken::Algorithm::HS256).unwrap();
        format!("{input}.{mac}")
    };
    let mut widened = claims.clone();
    widened["sub"] = json!("alice");
    let cases = [
        ("without `items`", provider.token("ES256", "me").await),
        ("from an untrusted issuer", untrusted.token("RS256", "me items").await),
        (
            "signed `none`",
            format!("{}.{}.", encode(&json!({"alg": "none", "typ": "at+jwt", "kid": "r1"})), encode(&claims)),
        ),
        ("HMAC-keyed with the public key", hmac_with_public_key),
        ("altered after signing", format!("{}.{}.{signature}", encode(&header), encode(&widened))),
        ("not a JWT", "opaque-token".to_owned()),
    ];
    for (what, token) in &cases {
        let (status, challenge, _) = get(&demo, "/users/me/items/", Some(token)).await;
        assert_eq!(status, 401, "{what}");
        assert!(challenge.starts_with("Bearer"), "{what}: {challenge}");
        assert!(challenge.contains("resource_metadata="), "{what}: {challenge}");
    }
    let (status, challenge, _) = get(&elsewhere, "/users/me/items/", Some(&good)).await;
    assert_eq!(status, 401, "a token for another audience");
    assert!(challenge.starts_with("Bearer"));
    assert_eq!(untrusted.jwks_fetches().await, 0, "nothing is fetched for an untrusted issuer");
    let (status, _, _) = get(&demo, "/users/me/items/", Some(&good)).await;
    assert_eq!(status, 200, "the good token itself");
}

#[tokio::test]
async fn a_rotation_is_picked_up_and_an_outage_keeps_the_last_good_keys() {
    let old = generate_keys(&["old:ES256"]);
    let provider = RunningProvider::start(&old, 0);
    let port = provider.port;
    let demo = demo_for(&provider.issuer, AUDIENCE);
    let before = provider.token("ES256", "me items").await;
    accepted_within(&demo, &before, Duration::ZERO).await;

    // The provider restarts signing with a new key, still publishing the old one.
    drop(provider);
    let new = generate_keys(&["new:ES256"]);
    let provider = RunningProvider::start(&keys_then(&new, &old), port);
    let after = provider.token("ES256", "me items").await;
    assert_eq!(segments(&after).0["kid"], "new");
    let took = accepted_within(&demo, &after, Duration::from_secs(30)).await;
    eprintln!("a token signed with the new key was accepted after {took:?}");
    accepted_within(&demo, &before, Duration::ZERO).await;

    // The provider goes away: both keys stay in use.
    drop(provider);
    accepted_within(&demo, &after, Duration::ZERO).await;
    accepted_within(&demo, &before, Duration::ZERO).await;
}

#[tokio::test]
async fn fifty_unknown_kids_cost_at_most_two_fetches() {
    let provider = RunningProvider::start(&generate_keys(&["e1:ES256"]), 0);
    let demo = demo_for(&provider.issuer, AUDIENCE);
    let good = provider.token("ES256", "me items").await;
    accepted_within(&demo, &good, Duration::ZERO).await;
    // Past the cooldown since the start-up fetch, so a forged kid may prompt one.
    tokio::time::sleep(Duration::from_secs(11)).await;
    let fetches_before = provider.jwks_fetches().await;

    let (_, claims, signature) = segments(&good);
    let forged: Vec<String> = (0..50)
        .map(|n| {
            format!(
                "{}.{}.{signature}",
                encode(&json!({"alg": "ES256", "typ": "at+jwt", "kid": format!("forged-{n}")})),
                encode(&claims)
            )
        })
        .collect();
    let answers =
        futures_util::future::join_all(forged.iter().map(|token| get(&demo, "/users/me/items/", Some(token)))).await;
    for (status, challenge, _) in &answers {
        assert_eq!(*status, 401);
        assert!(challenge.starts_with("Bearer"));
    }
    let fetched = provider.jwks_fetches().await - fetches_before;
    assert!(fetched <= 2, "50 unknown kids caused {fetched} fetches");
    assert!(fetched >= 1, "an unknown kid after the cooldown prompts a fetch");
    accepted_within(&demo, &good, Duration::ZERO).await;
}

#[tokio::test]
async fn a_demo_started_before_its_provider_accepts_tokens_once_it_is_up() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let issuer = format!("http://127.0.0.1:{port}");
    let demo = demo_for(&issuer, AUDIENCE);
    assert!(demo.log.iter().any(|line| line.contains("not reachable yet")), "{:#?}", demo.log);
    let (status, _, body) = get(&demo, "/users/me/items/", Some("a.b.c")).await;
    assert_eq!(status, 401, "a malformed token is refused without keys: {body}");

    let provider = RunningProvider::start(&generate_keys(&["d1:EdDSA"]), port);
    let token = provider.token("EdDSA", "me items").await;
    let response =
        reqwest::Client::new().get(format!("{}/users/me/items/", demo.base)).bearer_auth(&token).send().await.unwrap();
    if response.status() == 503 {
        assert!(response.headers().contains_key("retry-after"), "a 503 says when to retry");
    }
    let took = accepted_within(&demo, &token, Duration::from_secs(30)).await;
    eprintln!("accepted {took:?} after the provider came up");
}

#[tokio::test]
async fn the_documents_point_at_the_provider() {
    let provider = RunningProvider::start(&every_algorithm(), 0);
    let demo = demo_for(&provider.issuer, AUDIENCE);
    let issuer = &provider.issuer;

    let (status, _, document) = get(&demo, "/openapi.json", None).await;
    assert_eq!(status, 200);
    let scheme = &document["components"]["securitySchemes"]["OAuth2PasswordBearer"];
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["authorizationCode"]["authorizationUrl"], format!("{issuer}/auth"));
    assert_eq!(scheme["flows"]["authorizationCode"]["tokenUrl"], format!("{issuer}/token"));
    assert_eq!(scheme["flows"]["clientCredentials"]["tokenUrl"], format!("{issuer}/token"));
    assert_eq!(scheme["flows"]["clientCredentials"]["scopes"]["items"], "Read items.");
    assert!(scheme["flows"].get("password").is_none());
    assert!(document["paths"].get("/token").is_none(), "no /token in this mode");
    assert_eq!(
        document["paths"]["/users/me/items/"]["get"]["security"],
        json!([{"OAuth2PasswordBearer": ["items", "me"]}])
    );
    let login = reqwest::Client::new()
        .post(format!("{}/token", demo.base))
        .form(&[("username", "johndoe"), ("password", "secret")])
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 404, "the demo issues no tokens in this mode");

    let (status, _, metadata) = get(&demo, "/.well-known/oauth-protected-resource", None).await;
    assert_eq!(status, 200);
    assert_eq!(
        metadata,
        json!({
            "resource": demo.base,
            "authorization_servers": [issuer],
            "scopes_supported": ["me", "items", "items:write", "reports", "admin"],
            "bearer_methods_supported": ["header"],
        })
    );
    let (status, challenge, _) = get(&demo, "/users/me/items/", None).await;
    assert_eq!(status, 401);
    assert_eq!(challenge, format!(r#"Bearer resource_metadata="{}/.well-known/oauth-protected-resource""#, demo.base));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dpop_bound_token_from_the_provider_reads_only_with_a_proof_of_its_key() {
    let provider = RunningProvider::start(&every_algorithm(), 0);
    let (key, thief) = (DpopKey::generate(), DpopKey::generate());
    let (token, token_type) = provider.dpop_token("ES256", "me items", &key).await;
    assert_eq!(token_type, "DPoP");
    assert_eq!(segments(&token).1["cnf"]["jkt"], key.thumbprint(), "bound to the proof's key");

    // Before DPoP: the demo as it was would take the bound token as a bearer token. Now it is refused.
    let off = demo_for(&provider.issuer, AUDIENCE);
    let (status, _, _) = get(&off, ITEMS, Some(&token)).await;
    assert_eq!(status, 401, "a DPoP-bound token sent as a bearer token, DPoP off");

    // Two replicas behind one public URL, sharing Redis for the proofs seen.
    let redis_url = scopes_tests::redis::shared().fresh_url();
    let public = "https://api.example";
    let args = [
        "--issuer",
        &provider.issuer,
        "--audience",
        AUDIENCE,
        "--dpop",
        "allowed",
        "--style",
        "rfc",
        "--public-url",
        public,
        "--redis-url",
        &redis_url,
    ];
    let (first, second) = (start_demo_with(None, &args), start_demo_with(None, &args));
    let url = format!("{public}{ITEMS}");
    let proof = key.proof("GET", &url, Some(&token));
    let read = with_proof(&first, ITEMS, &token, proof.clone()).await;
    assert_eq!((read.status.as_u16(), &read.body), (200, &items_of_johndoe()));
    assert_proof_refused(&with_proof(&first, ITEMS, &token, proof.clone()).await, "replayed");
    assert_proof_refused(&with_proof(&second, ITEMS, &token, proof).await, "replayed at the second replica");
    for (what, proof) in bad_proofs(&key, &thief, &url, &format!("{public}/users/me/"), &token) {
        assert_proof_refused(&with_proof(&second, ITEMS, &token, proof).await, what);
    }
    let no_proof = scopes_tests::dpop::get(&second, ITEMS, Some(format!("DPoP {token}")), None).await;
    assert_proof_refused(&no_proof, "no proof");
    let (status, challenge, body) = get(&second, ITEMS, Some(&token)).await;
    assert_eq!((status, body["error"].as_str()), (401, Some("invalid_token")), "the bound token as a bearer token");
    assert!(challenge.contains("DPoP realm="), "{challenge}");
    // With DPoP allowed, a plain bearer token from the provider still reads.
    let bearer = provider.token("ES256", "me items").await;
    assert_eq!(get(&second, ITEMS, Some(&bearer)).await.0, 200);
}

/// A demo introspecting the provider's tokens (as the client `api`), remembering answers `cache_secs`.
fn introspecting_demo(provider: &RunningProvider, cache_secs: &str) -> RunningDemo {
    start_demo_with(
        None,
        &[
            "--issuer",
            &provider.issuer,
            "--audience",
            AUDIENCE,
            "--style",
            "rfc",
            "--introspection-client-id",
            "api",
            "--introspection-client-secret",
            "api-secret",
            "--introspection-cache-secs",
            cache_secs,
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opaque_tokens_read_through_introspection_one_call_for_a_crowd_and_revocations_are_seen() {
    let provider = RunningProvider::start(&every_algorithm(), 0);
    let demo = introspecting_demo(&provider, "2");
    let token = provider.token("opaque", "me items").await;
    assert!(!token.contains('.'), "an opaque token: {token}");
    let (status, _, body) = get(&demo, ITEMS, Some(&token)).await;
    assert_eq!((status, body), (200, items_of_johndoe()));
    // The provider signs this client's answers (RFC 9701): the demo fetched its keys to verify the first.
    assert!(demo.wait_for_log("key set fetched", Duration::from_secs(5)).is_some(), "the signed answer was verified");
    // oidc-provider does not introspect its JWTs (`unsupported_token_type`): refused, not answered 503.
    assert_eq!(get(&demo, ITEMS, Some(&provider.token("ES256", "me items").await)).await.0, 401);

    // Fifty requests at once with one new token: one introspection between them.
    let fresh = provider.token("opaque", "me items").await;
    let before = provider.introspections().await;
    let statuses = futures_util::future::join_all((0..50).map(|_| get(&demo, ITEMS, Some(&fresh)))).await;
    assert!(
        statuses.iter().all(|(status, _, _)| *status == 200),
        "{:?}",
        statuses.iter().map(|s| s.0).collect::<Vec<_>>()
    );
    assert_eq!(provider.introspections().await - before, 1, "one call for the crowd");

    // Revoked at the provider: refused once the answer is forgotten, within the configured 2 s.
    provider.revoke(&fresh).await;
    let revoked_at = Instant::now();
    loop {
        let (status, _, body) = get(&demo, ITEMS, Some(&fresh)).await;
        if status == 401 {
            assert_eq!(body["error"], "invalid_token");
            break;
        }
        assert!(revoked_at.elapsed() < Duration::from_secs(4), "still {status} after the cache's 2 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Revoked through the demo's own `/revoke`: at the provider, and forgotten here at once.
    let other = provider.token("opaque", "me items").await;
    assert_eq!(get(&demo, ITEMS, Some(&other)).await.0, 200);
    let revoked =
        reqwest::Client::new().post(format!("{}/revoke", demo.base)).form(&[("token", other.as_str())]).send();
    assert_eq!(revoked.await.expect("the demo answers").status(), 200);
    assert_eq!(get(&demo, ITEMS, Some(&other)).await.0, 401, "refused at once");
    // A token nobody issued is refused, and a forged one never reaches further.
    assert_eq!(get(&demo, ITEMS, Some("not-a-token-anyone-issued")).await.0, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_provider_down_remembered_tokens_keep_working_and_new_ones_are_answered_503() {
    let provider = RunningProvider::start(&every_algorithm(), 0);
    let demo = introspecting_demo(&provider, "30");
    let remembered = provider.token("opaque", "me items").await;
    let unseen = provider.token("opaque", "me items").await;
    assert_eq!(get(&demo, ITEMS, Some(&remembered)).await.0, 200);
    drop(provider);
    assert_eq!(get(&demo, ITEMS, Some(&remembered)).await.0, 200, "remembered for its TTL");
    let response =
        reqwest::Client::new().get(format!("{}{ITEMS}", demo.base)).bearer_auth(&unseen).send().await.unwrap();
    assert_eq!(response.status(), 503);
    assert!(response.headers().contains_key("retry-after"));
}

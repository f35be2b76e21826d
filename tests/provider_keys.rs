//! Keeping a provider's keys (`Provider`, `KeyRefresh`, `Authority::from_providers`) against a provider
//! this test controls: an axum server on `127.0.0.1:0` serving a discovery document and a JWK Set, that
//! counts its requests and can be told to answer otherwise (another issuer, a huge set, a stall, an error).
//! The tokens are signed with the test keys of `tests/fixtures/keys/`.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use scopes_runtime::{Authority, Provider, TokenError, verifying::KeyRefresh, verifying::ProviderError};
use scopes_tests::tokens::now;
use serde_json::{Value, json};

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = { "me" => "Read information about the current user." },
}

const KEYS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys/");
const AUDIENCE: &str = "https://api.example";

/// What the fake provider answers at `/jwks`.
#[derive(Clone)]
enum Jwks {
    Keys { kids: Vec<&'static str>, cache_control: Option<&'static str> },
    Huge,
    Stall,
    Error,
}

struct Fake {
    issuer: Mutex<String>,
    /// The issuer its discovery document names (its own unless told otherwise).
    named_issuer: Mutex<Option<String>>,
    jwks: Mutex<Jwks>,
    discoveries: AtomicU64,
    fetches: AtomicU64,
    /// Serve RFC 8414's document only, not OpenID Connect's.
    oauth_only: std::sync::atomic::AtomicBool,
}

/// A fake provider on a free loopback port; its issuer is `http://127.0.0.1:PORT`.
async fn fake_provider(jwks: Jwks) -> Arc<Fake> {
    let fake = Arc::new(Fake {
        issuer: Mutex::new(String::new()),
        named_issuer: Mutex::new(None),
        jwks: Mutex::new(jwks),
        discoveries: AtomicU64::new(0),
        fetches: AtomicU64::new(0),
        oauth_only: std::sync::atomic::AtomicBool::new(false),
    });
    let app = axum::Router::new()
        .route("/.well-known/openid-configuration", get(openid_discovery))
        .route("/.well-known/oauth-authorization-server", get(discovery))
        .route("/jwks", get(key_set))
        .with_state(fake.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    *fake.issuer.lock().unwrap() = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    fake
}

async fn openid_discovery(State(fake): State<Arc<Fake>>) -> Response {
    if fake.oauth_only.load(Ordering::SeqCst) {
        return StatusCode::NOT_FOUND.into_response();
    }
    discovery(State(fake)).await
}

async fn discovery(State(fake): State<Arc<Fake>>) -> Response {
    fake.discoveries.fetch_add(1, Ordering::SeqCst);
    let issuer = fake.issuer.lock().unwrap().clone();
    let named = fake.named_issuer.lock().unwrap().clone().unwrap_or_else(|| issuer.clone());
    axum::Json(json!({
        "issuer": named,
        "jwks_uri": format!("{issuer}/jwks"),
        "authorization_endpoint": format!("{issuer}/auth"),
        "token_endpoint": format!("{issuer}/token"),
    }))
    .into_response()
}

async fn key_set(State(fake): State<Arc<Fake>>) -> Response {
    fake.fetches.fetch_add(1, Ordering::SeqCst);
    let jwks = fake.jwks.lock().unwrap().clone();
    match jwks {
        Jwks::Keys { kids, cache_control } => {
            let mut response = axum::Json(public_keys(&kids)).into_response();
            if let Some(value) = cache_control {
                response.headers_mut().insert(header::CACHE_CONTROL, value.parse().unwrap());
            }
            response
        }
        Jwks::Huge => {
            let padding = "x".repeat(300 * 1024);
            axum::Json(json!({"keys": public_keys(&["es256"])["keys"], "padding": padding})).into_response()
        }
        Jwks::Stall => {
            tokio::time::sleep(Duration::from_secs(60)).await;
            StatusCode::OK.into_response()
        }
        Jwks::Error => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

impl Fake {
    fn issuer(&self) -> String {
        self.issuer.lock().unwrap().clone()
    }

    fn serve(&self, jwks: Jwks) {
        *self.jwks.lock().unwrap() = jwks;
    }

    fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::SeqCst)
    }
}

/// The test key set, only the keys named.
fn public_keys(kids: &[&str]) -> Value {
    let all: Value = serde_json::from_str(&std::fs::read_to_string(format!("{KEYS}jwks.json")).unwrap()).unwrap();
    let keys: Vec<Value> = all["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|key| kids.contains(&key["kid"].as_str().unwrap()))
        .cloned()
        .collect();
    json!({ "keys": keys })
}

/// A token from `issuer` signed with the test key `kid` (`es256` or `eddsa`), `kid` in its header.
fn token(issuer: &str, kid: &str, header_kid: &str) -> String {
    let (algorithm, der) = match kid {
        "es256" => (Algorithm::ES256, std::fs::read(format!("{KEYS}es256.der")).unwrap()),
        _ => (Algorithm::EdDSA, std::fs::read(format!("{KEYS}eddsa.der")).unwrap()),
    };
    let key = match algorithm {
        Algorithm::ES256 => EncodingKey::from_ec_der(&der),
        _ => EncodingKey::from_ed_der(&der),
    };
    let header = Header { kid: Some(header_kid.into()), typ: Some("at+jwt".into()), ..Header::new(algorithm) };
    let claims = json!({"iss": issuer, "aud": AUDIENCE, "sub": "johndoe", "scope": "me items", "exp": now() + 300});
    jsonwebtoken::encode(&header, &claims, &key).unwrap()
}

fn quick() -> KeyRefresh {
    let mut refresh = KeyRefresh::default();
    refresh.unknown_kid_cooldown = Duration::from_millis(300);
    refresh.fetch_timeout = Duration::from_secs(1);
    refresh
}

#[tokio::test]
async fn several_issuers_each_with_their_own_keys_chosen_by_exact_iss() {
    let first = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: None }).await;
    let second = fake_provider(Jwks::Keys { kids: vec!["eddsa"], cache_control: None }).await;
    let authority = Authority::from_providers(
        [
            Provider::discover(first.issuer()).with_refresh(quick()),
            Provider::discover(second.issuer()).with_refresh(quick()),
        ],
        AUDIENCE,
    )
    .unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    assert_eq!(authority.trusted_issuers(), [first.issuer(), second.issuer()]);

    assert_eq!(
        authority.verify_async(&token(&first.issuer(), "es256", "es256")).await.unwrap().scopes,
        ["me", "items"]
    );
    assert_eq!(authority.verify_async(&token(&second.issuer(), "eddsa", "eddsa")).await.unwrap().sub, "johndoe");
    let claims = authority.verify_async(&token(&first.issuer(), "es256", "es256")).await.unwrap();
    assert_eq!(claims.claim::<String>("iss").unwrap(), Some(first.issuer()), "every claim is readable");

    // One issuer's name on a token signed with the other's key: its keys do not have that kid.
    let crossed = token(&first.issuer(), "eddsa", "eddsa");
    assert_eq!(authority.verify_async(&crossed).await, Err(TokenError::UnknownKey));
    let fetches = (first.fetches(), second.fetches());
    for untrusted in [format!("{}/", first.issuer()), "http://127.0.0.1:1".into(), String::new()] {
        let refused = authority.verify_async(&token(&untrusted, "es256", "other")).await;
        assert_eq!(refused, Err(TokenError::UntrustedIssuer), "{untrusted:?}");
    }
    assert_eq!((first.fetches(), second.fetches()), fetches, "nothing fetched for untrusted issuers");
}

#[tokio::test]
async fn a_jwks_url_needs_no_discovery_and_a_single_issuer_is_still_checked() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: None }).await;
    let provider = Provider::with_jwks_url(fake.issuer(), format!("{}/jwks", fake.issuer())).with_refresh(quick());
    let authority = Authority::from_providers([provider], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    assert!(authority.verify_async(&token(&fake.issuer(), "es256", "es256")).await.is_ok());
    assert_eq!(fake.discoveries.load(Ordering::SeqCst), 0);
    assert_eq!(authority.provider_metadata(), [None]);
    // Only one provider: its `iss` is checked after the signature.
    let other = authority.verify_async(&token("https://elsewhere.example", "es256", "es256")).await;
    assert!(matches!(other, Err(TokenError::InvalidClaims(_))), "{other:?}");
}

#[tokio::test]
async fn a_discovery_document_for_another_issuer_is_refused() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: None }).await;
    *fake.named_issuer.lock().unwrap() = Some("https://attacker.example".into());
    let authority =
        Authority::from_providers([Provider::discover(fake.issuer()).with_refresh(quick())], AUDIENCE).unwrap();
    assert!(!authority.wait_for_keys(Duration::from_millis(500)).await);
    assert_eq!(fake.fetches(), 0, "the key set it names is not fetched");
    let refused = authority.verify_async(&token(&fake.issuer(), "es256", "es256")).await;
    assert!(matches!(refused, Err(TokenError::KeysUnavailable { .. })), "{refused:?}");
}

#[tokio::test]
async fn failed_fetches_keep_the_last_good_set() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: None }).await;
    let authority =
        Authority::from_providers([Provider::discover(fake.issuer()).with_refresh(quick())], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    let good = token(&fake.issuer(), "es256", "es256");
    for failure in [Jwks::Huge, Jwks::Error, Jwks::Stall] {
        fake.serve(failure);
        tokio::time::sleep(Duration::from_millis(350)).await;
        let before = fake.fetches();
        // An unknown kid prompts a fetch, which fails (a stall within the 1 s fetch timeout).
        let started = std::time::Instant::now();
        let unknown = authority.verify_async(&token(&fake.issuer(), "es256", "rotated")).await;
        assert_eq!(unknown, Err(TokenError::UnknownKey));
        assert!(started.elapsed() < Duration::from_secs(3), "a stalled fetch is cut short");
        assert_eq!(fake.fetches(), before + 1);
        assert!(authority.verify_async(&good).await.is_ok(), "the last good set still verifies");
    }
}

#[tokio::test]
async fn concurrent_unknown_kids_share_one_fetch_even_without_a_cooldown() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: None }).await;
    let mut refresh = quick();
    refresh.unknown_kid_cooldown = Duration::ZERO;
    let authority =
        Authority::from_providers([Provider::discover(fake.issuer()).with_refresh(refresh)], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    let before = fake.fetches();
    let forged = token(&fake.issuer(), "es256", "forged");
    let attempts = (0..40).map(|_| authority.verify_async(&forged));
    for result in futures_util::future::join_all(attempts).await {
        assert_eq!(result, Err(TokenError::UnknownKey));
    }
    assert_eq!(fake.fetches() - before, 1, "one fetch for forty requests at once");
    // The kid is now known to be unknown: the same forged kid costs nothing more.
    assert_eq!(authority.verify_async(&forged).await, Err(TokenError::UnknownKey));
    assert_eq!(fake.fetches() - before, 1);
}

#[tokio::test]
async fn a_rotated_key_is_fetched_on_first_sight_after_the_cooldown() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: Some("max-age=3600") }).await;
    let authority =
        Authority::from_providers([Provider::discover(fake.issuer()).with_refresh(quick())], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    fake.serve(Jwks::Keys { kids: vec!["es256", "eddsa"], cache_control: None });
    let rotated = token(&fake.issuer(), "eddsa", "eddsa");
    // Within the cooldown of the first fetch it may be refused; after it, it is fetched and accepted.
    tokio::time::sleep(Duration::from_millis(350)).await;
    assert_eq!(authority.verify_async(&rotated).await.unwrap().sub, "johndoe");
    // `verify`, which never waits, uses the same keys.
    assert!(authority.verify(&rotated).is_ok());
}

#[tokio::test]
async fn configuration_mistakes_are_refused_when_built() {
    let https = || Provider::discover("https://auth.example");
    assert_eq!(Authority::from_providers([], AUDIENCE).err(), Some(ProviderError::NoProvider));
    assert_eq!(
        Authority::from_providers([https(), https()], AUDIENCE).err(),
        Some(ProviderError::DuplicateIssuer("https://auth.example".into()))
    );
    assert_eq!(
        Authority::from_providers([Provider::discover("http://auth.example")], AUDIENCE).err(),
        Some(ProviderError::PlainHttp("http://auth.example".into()))
    );
    assert!(
        Authority::from_providers([Provider::discover("http://auth.example").allowing_plain_http()], AUDIENCE).is_ok()
    );
    let jwks_over_http = Provider::with_jwks_url("https://auth.example", "http://auth.example/jwks");
    assert!(matches!(Authority::from_providers([jwks_over_http], AUDIENCE), Err(ProviderError::PlainHttp(_))));
    assert!(matches!(
        Authority::from_providers([Provider::discover("not a url")], AUDIENCE),
        Err(ProviderError::InvalidUrl { .. })
    ));
}

#[test]
fn a_runtime_is_required() {
    assert_eq!(
        Authority::from_providers([Provider::discover("https://auth.example")], AUDIENCE).err(),
        Some(ProviderError::NoRuntime)
    );
}

#[tokio::test]
async fn tokens_before_any_keys_are_answered_503_with_retry_after() {
    use scopes_tests::minimal::{AppState, User};
    use scopes_tests::transport::{InProcess, Transport};

    #[scopes_runtime::requires]
    async fn status(_user: User) -> &'static str {
        "ok"
    }
    let unreachable = "http://127.0.0.1:1";
    let authority =
        Authority::from_providers([Provider::discover(unreachable).with_refresh(quick())], AUDIENCE).unwrap();
    let router = axum::Router::new().route("/status", get(status)).with_state(AppState { authority });
    let response = InProcess::new(router)
        .send(scopes_tests::cases::bearer("/status", &token(unreachable, "es256", "es256")))
        .await;
    assert_eq!(response.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test]
async fn keys_are_refreshed_in_the_background_ahead_of_their_time_to_live() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: Some("max-age=1") }).await;
    let mut refresh = quick();
    refresh.min_ttl = Duration::from_secs(1);
    let authority =
        Authority::from_providers([Provider::discover(fake.issuer()).with_refresh(refresh)], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    // The provider rotates; no token asks for the new key, yet the set is refreshed within its TTL.
    fake.serve(Jwks::Keys { kids: vec!["eddsa"], cache_control: Some("max-age=1") });
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(fake.fetches() >= 2, "refreshed without traffic: {} fetches", fake.fetches());
    let rotated = token(&fake.issuer(), "eddsa", "eddsa");
    assert!(authority.verify(&rotated).is_ok(), "the refreshed set is in use without waiting");
    let retired = token(&fake.issuer(), "es256", "es256");
    assert_eq!(authority.verify(&retired), Err(TokenError::UnknownKey), "a key dropped from the set is dropped here");
}

#[tokio::test]
async fn rfc_8414_metadata_is_read_when_there_is_no_openid_configuration() {
    let fake = fake_provider(Jwks::Keys { kids: vec!["es256"], cache_control: None }).await;
    fake.oauth_only.store(true, Ordering::SeqCst);
    let authority =
        Authority::from_providers([Provider::discover(fake.issuer()).with_refresh(quick())], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
    assert!(authority.verify_async(&token(&fake.issuer(), "es256", "es256")).await.is_ok());
    let metadata = authority.provider_metadata().remove(0).expect("discovered");
    assert!(!metadata.openid_connect, "read from RFC 8414's document");
    assert_eq!(metadata.token_endpoint, Some(format!("{}/token", fake.issuer())));
}

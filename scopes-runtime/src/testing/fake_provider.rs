//! A fake identity provider for tests of an app in issuer mode: OpenID Connect discovery and a JWK Set
//! served on `127.0.0.1:0`, Ed25519 keys made fresh for each run, tokens signed with the current key, and
//! rotation; opaque tokens, their introspection (RFC 7662) and revocation.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{Ed25519KeyPair, KeyPair};
use axum::Json;
use axum::extract::State;
use axum::routing::get;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::verifying::{KeyRefresh, Provider};

/// An identity provider on a loopback port, for tests: it publishes its keys by discovery, mints access
/// tokens (RFC 9068: `typ` `at+jwt`, `iss`, `aud`, `sub`, `scope`, `exp`, `iat`, `jti`) with its current key,
/// rotates keys, and counts the fetches of its key set. Stopped when dropped.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::Authority;
/// use scopes_runtime::testing::FakeProvider;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let provider = FakeProvider::start().await;
/// let authority = Authority::from_providers([provider.provider()], "https://api.example").unwrap();
/// assert!(authority.wait_for_keys(Duration::from_secs(5)).await);
///
/// let token = provider.token("johndoe", ["me"], "https://api.example");
/// assert_eq!(authority.verify_async(&token).await.unwrap().scopes, ["me"]);
///
/// provider.rotate(); // a new key signs; the old one stays published
/// let rotated = provider.token("johndoe", ["me"], "https://api.example");
/// // An unknown kid prompts a fetch, once the refetch cooldown (100 ms here) since the last one is over.
/// tokio::time::sleep(Duration::from_millis(150)).await;
/// assert!(authority.verify_async(&rotated).await.is_ok());
/// assert!(authority.verify_async(&token).await.is_ok());
/// # }
/// ```
pub struct FakeProvider {
    issuer: String,
    state: Arc<FakeState>,
    server: tokio::task::JoinHandle<()>,
}

struct FakeState {
    keys: Mutex<Vec<SigningKey>>,
    fetches: AtomicU64,
    issuer: String,
    /// The opaque tokens issued, and their introspection answers (`active` set false on revocation).
    opaque: Mutex<std::collections::HashMap<String, Value>>,
    introspections: AtomicU64,
    /// Whether introspection answers are signed (RFC 9701) when the client asks for them.
    signs_answers: std::sync::atomic::AtomicBool,
}

/// The client the fake provider takes at its introspection endpoint (`client_secret_basic`).
pub const INTROSPECTION_CLIENT: (&str, &str) = ("api", "api-secret");

/// One Ed25519 key: its id, its signing half, and its public JWK.
struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    jwk: Value,
}

impl SigningKey {
    fn generate(kid: String) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).expect("an Ed25519 key");
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("the key just made");
        use base64::Engine;
        let x = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(pair.public_key().as_ref());
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA", "use": "sig"});
        SigningKey { kid, encoding: EncodingKey::from_ed_der(pkcs8.as_ref()), jwk }
    }
}

impl FakeProvider {
    /// A provider with one key, listening on a free loopback port.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let issuer = format!("http://{}", listener.local_addr().expect("a bound address"));
        let state = Arc::new(FakeState {
            keys: Mutex::new(vec![SigningKey::generate("key-1".into())]),
            fetches: AtomicU64::new(0),
            issuer: issuer.clone(),
            opaque: Mutex::new(std::collections::HashMap::new()),
            introspections: AtomicU64::new(0),
            signs_answers: std::sync::atomic::AtomicBool::new(false),
        });
        let app = axum::Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(key_set))
            .route("/introspect", axum::routing::post(introspect))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeProvider { issuer, state, server }
    }

    /// Its issuer, `http://127.0.0.1:PORT`.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// The [`Provider`] that trusts it, refetching at most every 100 ms so tests need not wait.
    pub fn provider(&self) -> Provider {
        let refresh =
            KeyRefresh { unknown_kid_cooldown: std::time::Duration::from_millis(100), ..KeyRefresh::default() };
        Provider::discover(&self.issuer).with_refresh(refresh)
    }

    /// An access token for `subject` granting `scopes`, for `audience`, valid for five minutes, signed with
    /// the current key.
    pub fn token<const N: usize>(&self, subject: &str, scopes: [&str; N], audience: &str) -> String {
        let now = crate::keys::clock::unix_now();
        let serial = self.state.fetches.load(Ordering::Relaxed);
        self.sign(&json!({
            "iss": self.issuer, "aud": audience, "sub": subject, "scope": scopes.join(" "),
            "iat": now, "exp": now + 300, "jti": format!("{now}-{serial}-{subject}"),
        }))
    }

    /// Any claims, signed with the current key (header `typ` `at+jwt`, its `kid`).
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(claims, Some("at+jwt"))
    }

    /// Any claims, signed with the current key, the header's `typ` as given (none when `None`): an ID
    /// token's `JWT`, or an untyped token, to see what a verifier makes of one.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
    /// use scopes_runtime::testing::FakeProvider;
    /// let provider = FakeProvider::start().await;
    /// let id_token = provider.sign_as(&serde_json::json!({"sub": "johndoe", "exp": 4_000_000_000u64}), Some("JWT"));
    /// assert_eq!(jsonwebtoken::decode_header(&id_token).unwrap().typ.as_deref(), Some("JWT"));
    /// # });
    /// ```
    pub fn sign_as(&self, claims: &Value, typ: Option<&str>) -> String {
        let keys = self.state.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = keys.last().expect("a provider always has a key");
        let header =
            Header { kid: Some(current.kid.clone()), typ: typ.map(str::to_owned), ..Header::new(Algorithm::EdDSA) };
        jsonwebtoken::encode(&header, claims, &current.encoding).expect("signing with a fresh key")
    }

    /// Signs with a new key from now on, still publishing the older ones; the new key's id.
    pub fn rotate(&self) -> String {
        let mut keys = self.state.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let kid = format!("key-{}", keys.len() + 1);
        keys.push(SigningKey::generate(kid.clone()));
        kid
    }

    /// Stops publishing every key but the current one: tokens they signed stop verifying once the set is
    /// refetched.
    pub fn retire_old_keys(&self) {
        let mut keys = self.state.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let keep = keys.len() - 1;
        keys.drain(..keep);
    }

    /// How many times its key set has been fetched.
    pub fn jwks_fetches(&self) -> u64 {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// An opaque access token for `subject` granting `scopes`, for `audience`, valid five minutes: only
    /// its introspection endpoint (`/introspect`, in discovery; client [`INTROSPECTION_CLIENT`]) reads it.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// use scopes_runtime::testing::{FakeProvider, INTROSPECTION_CLIENT};
    /// use scopes_runtime::verifying::{ClientAuth, Introspection};
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let provider = FakeProvider::start().await;
    /// let (id, secret) = INTROSPECTION_CLIENT;
    /// let introspection = Introspection::discover(provider.issuer(), ClientAuth::secret_basic(id, secret));
    /// let authority = Authority::from_introspection(introspection, "https://api.example").unwrap();
    /// let token = provider.opaque_token("johndoe", ["me"], "https://api.example");
    /// assert_eq!(authority.verify_async(&token).await.unwrap().sub, "johndoe");
    /// provider.revoke(&token);
    /// authority.introspection().unwrap().forget(&token);
    /// assert!(authority.verify_async(&token).await.is_err());
    /// # }
    /// ```
    pub fn opaque_token<const N: usize>(&self, subject: &str, scopes: [&str; N], audience: &str) -> String {
        use aws_lc_rs::rand::SecureRandom;
        let mut bytes = [0u8; 24];
        SystemRandom::new().fill(&mut bytes).expect("randomness");
        use base64::Engine;
        let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let now = crate::keys::clock::unix_now();
        let answer = json!({
            "active": true, "iss": self.issuer, "aud": audience, "sub": subject, "scope": scopes.join(" "),
            "client_id": "test-client", "iat": now, "exp": now + 300, "token_type": "Bearer",
        });
        self.state.opaque.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).insert(token.clone(), answer);
        token
    }

    /// Revokes an opaque token: it introspects `active: false` from now on.
    pub fn revoke(&self, token: &str) {
        let mut opaque = self.state.opaque.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(answer) = opaque.get_mut(token) {
            *answer = json!({ "active": false });
        }
    }

    /// Signs its introspection answers from now on (RFC 9701: `application/token-introspection+jwt`, `iss`
    /// itself, `aud` the client, the answer in `token_introspection`) when the client accepts them, with its
    /// current key.
    pub fn sign_introspections(&self) {
        self.state.signs_answers.store(true, Ordering::SeqCst);
    }

    /// How many tokens it has introspected.
    pub fn introspections(&self) -> u64 {
        self.state.introspections.load(Ordering::SeqCst)
    }
}

impl Drop for FakeProvider {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn discovery(State(state): State<Arc<FakeState>>) -> Json<Value> {
    let issuer = &state.issuer;
    Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/jwks"),
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "introspection_endpoint": format!("{issuer}/introspect"),
        "grant_types_supported": ["authorization_code", "client_credentials"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

/// RFC 7662 §2: the client must authenticate (`client_secret_basic`); an unknown token is not active.
async fn introspect(
    State(state): State<Arc<FakeState>>,
    headers: axum::http::HeaderMap,
    form: axum::extract::Form<std::collections::HashMap<String, String>>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    use base64::Engine;
    let (id, secret) = INTROSPECTION_CLIENT;
    let expected = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}")));
    if headers.get(axum::http::header::AUTHORIZATION).and_then(|value| value.to_str().ok()) != Some(&expected) {
        return (axum::http::StatusCode::UNAUTHORIZED, Json(json!({ "error": "invalid_client" }))).into_response();
    }
    state.introspections.fetch_add(1, Ordering::SeqCst);
    let answer = {
        let opaque = state.opaque.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let token = form.get("token").map(String::as_str).unwrap_or_default();
        opaque.get(token).cloned().unwrap_or_else(|| json!({ "active": false }))
    };
    let accepts_signed = headers
        .get(axum::http::header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("application/token-introspection+jwt"));
    if !(accepts_signed && state.signs_answers.load(Ordering::SeqCst)) {
        return Json(answer).into_response();
    }
    let keys = state.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let current = keys.last().expect("a key");
    let claims =
        json!({ "iss": state.issuer, "aud": id, "iat": crate::keys::clock::unix_now(), "token_introspection": answer });
    let header = Header {
        kid: Some(current.kid.clone()),
        typ: Some("token-introspection+jwt".into()),
        ..Header::new(Algorithm::EdDSA)
    };
    let signed = jsonwebtoken::encode(&header, &claims, &current.encoding).expect("signing with a fresh key");
    ([(axum::http::header::CONTENT_TYPE, "application/token-introspection+jwt")], signed).into_response()
}

async fn key_set(State(state): State<Arc<FakeState>>) -> Json<Value> {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let keys = state.keys.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    Json(json!({ "keys": keys.iter().map(|key| key.jwk.clone()).collect::<Vec<_>>() }))
}

//! Tokens checked by asking their issuer (RFC 7662 token introspection): opaque tokens only the issuer can
//! read, or JWTs where a logout must be seen at once. The answers are remembered a short while
//! ([`Introspection::with_cache_ttl`]), keyed by a digest of the token (never the token), never past the
//! token's `exp`; concurrent requests with one new token make one call between them; refusals are
//! remembered for a shorter while; an issuer that cannot be reached is answered 503 for tokens not
//! remembered. An answer the issuer signs (RFC 9701, `application/token-introspection+jwt`) is verified
//! with the issuer's published keys before it is read.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::header::{ACCEPT, CONTENT_TYPE};
use tokio::sync::OnceCell;

use super::claims::Claims;
use super::error::TokenError;
use super::fetch::{self, FetchError};
use super::live_keys::{LiveKeys, Refetch};
use super::policy::Policy;
use super::provider::{Provider, ProviderError, check_url};
use super::scope_claim::ScopeClaim;
use super::verifier::{Verifier, Verifying};
use crate::keys::clock::unix_now;

/// How the API authenticates to the introspection endpoint (RFC 7662 §2.1, RFC 6749 §2.3.1). Its `Debug`
/// never shows the secret.
///
/// ```
/// use scopes_runtime::verifying::ClientAuth;
/// let auth = ClientAuth::secret_basic("api", "s3cret");
/// assert!(!format!("{auth:?}").contains("s3cret"));
/// ```
#[derive(Clone)]
pub enum ClientAuth {
    /// `Authorization: Basic` with the client id and secret (`client_secret_basic`).
    SecretBasic {
        /// The API's client id at the provider.
        id: String,
        /// Its secret.
        secret: String,
    },
    /// The client id and secret in the form (`client_secret_post`).
    SecretPost {
        /// The API's client id at the provider.
        id: String,
        /// Its secret.
        secret: String,
    },
}

impl ClientAuth {
    /// `client_secret_basic`: what RFC 6749 says every server must take.
    pub fn secret_basic(id: impl Into<String>, secret: impl Into<String>) -> Self {
        ClientAuth::SecretBasic { id: id.into(), secret: secret.into() }
    }

    /// `client_secret_post`.
    pub fn secret_post(id: impl Into<String>, secret: impl Into<String>) -> Self {
        ClientAuth::SecretPost { id: id.into(), secret: secret.into() }
    }

    /// `request` authenticated this way, sending `form`.
    fn authenticate(&self, request: reqwest::RequestBuilder, form: &[(&str, &str)]) -> reqwest::RequestBuilder {
        let encode = |fields: &[(&str, &str)]| {
            form_urlencoded::Serializer::new(String::new()).extend_pairs(fields.iter().copied()).finish()
        };
        let request = request.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        match self {
            ClientAuth::SecretBasic { id, secret } => {
                // RFC 6749 §2.3.1: each form-encoded before they are joined.
                let (id, secret) = (encode_component(id), encode_component(secret));
                request.basic_auth(id, Some(secret)).body(encode(form))
            }
            ClientAuth::SecretPost { id, secret } => {
                let mut fields = form.to_vec();
                fields.extend([("client_id", id.as_str()), ("client_secret", secret.as_str())]);
                request.body(encode(&fields))
            }
        }
    }
}

/// `value` as `application/x-www-form-urlencoded` writes it.
fn encode_component(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

impl fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (method, id) = match self {
            ClientAuth::SecretBasic { id, .. } => ("SecretBasic", id),
            ClientAuth::SecretPost { id, .. } => ("SecretPost", id),
        };
        f.debug_struct(method).field("id", id).field("secret", &"<redacted>").finish()
    }
}

/// Tokens checked at their issuer's introspection endpoint (RFC 7662), found by discovery
/// (`introspection_endpoint`) or given. An [`Authority`](crate::Authority) made with
/// [`from_introspection`](crate::Authority::from_introspection) verifies with it.
///
/// An answer is taken when it says `active: true`, and its claims then hold under the authority's
/// [`Policy`] (`exp`, `nbf`, `iss`, `aud`); its scopes are read from `scope` (space-separated). A token
/// without `sub` is the client's own (client credentials): its subject is the `client_id`.
///
/// ```no_run
/// use std::time::Duration;
/// use scopes_runtime::Authority;
/// use scopes_runtime::verifying::{ClientAuth, Introspection};
///
/// # async fn run() -> Result<(), scopes_runtime::verifying::ProviderError> {
/// let introspection = Introspection::discover("https://sso.example/realms/api", ClientAuth::secret_basic("api", "s3cret"))
///     .with_cache_ttl(Duration::from_secs(30));
/// let authority = Authority::from_introspection(introspection, "https://api.example")?;
/// # let _ = authority;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Introspection {
    provider: Provider,
    auth: ClientAuth,
    /// Where to introspect: given, or found by discovery at the first use.
    endpoint: Arc<OnceCell<String>>,
    revocation: Arc<OnceCell<Option<String>>>,
    ttl: Duration,
    negative_ttl: Duration,
    max_entries: usize,
    /// The answers remembered, by the token's SHA-256; `None` when `ttl` is zero.
    cache: Option<Arc<AnswerCache>>,
    /// Whether an unsigned answer is refused ([`requiring_signed_answers`](Introspection::requiring_signed_answers)).
    signed_only: bool,
    /// The issuer's keys, fetched at the first signed answer.
    answer_keys: Arc<OnceCell<Arc<LiveKeys>>>,
}

/// RFC 9701's media type of a signed introspection answer.
const SIGNED_ANSWER: &str = "application/token-introspection+jwt";

type AnswerCache = quick_cache::sync::Cache<[u8; 32], Remembered>;

/// An answer remembered, and until when (Unix seconds) it holds.
#[derive(Clone)]
struct Remembered {
    until: u64,
    verdict: Result<Arc<Claims>, TokenError>,
}

impl fmt::Debug for Introspection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Introspection")
            .field("issuer", &self.provider.issuer)
            .field("auth", &self.auth)
            .field("endpoint", &self.endpoint.get())
            .field("ttl", &self.ttl)
            .field("negative_ttl", &self.negative_ttl)
            .field("max_entries", &self.max_entries)
            .field("signed_only", &self.signed_only)
            .finish()
    }
}

impl Introspection {
    /// Answers are remembered this long by default (never past the token's `exp`).
    pub const DEFAULT_TTL: Duration = Duration::from_secs(30);
    /// Refusals are remembered this long by default: a token refused now may be one issued a moment ago
    /// that the issuer has not replicated yet.
    pub const DEFAULT_NEGATIVE_TTL: Duration = Duration::from_secs(5);
    /// The most answers remembered at once, by default.
    pub const DEFAULT_MAX_ENTRIES: usize = 100_000;
    /// How long a client is told to wait when the issuer cannot be reached.
    const RETRY_AFTER: Duration = Duration::from_secs(1);

    /// The issuer at `issuer`, its introspection endpoint found by discovery (OpenID Connect's, or RFC
    /// 8414's), the API authenticating as `auth`.
    pub fn discover(issuer: impl Into<String>, auth: ClientAuth) -> Self {
        Introspection {
            provider: Provider::discover(issuer),
            auth,
            endpoint: Arc::new(OnceCell::new()),
            revocation: Arc::new(OnceCell::new()),
            ttl: Self::DEFAULT_TTL,
            negative_ttl: Self::DEFAULT_NEGATIVE_TTL,
            max_entries: Self::DEFAULT_MAX_ENTRIES,
            cache: None,
            signed_only: false,
            answer_keys: Arc::new(OnceCell::new()),
        }
        .with_fresh_cache()
    }

    /// The issuer at `issuer`, introspecting at `endpoint` without discovery.
    pub fn at(issuer: impl Into<String>, endpoint: impl Into<String>, auth: ClientAuth) -> Self {
        let introspection = Self::discover(issuer, auth);
        let _ = introspection.endpoint.set(endpoint.into());
        introspection
    }

    /// Remembers each answer `ttl` at most (never past the token's `exp`); zero remembers none, and every
    /// request asks the issuer.
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self.with_fresh_cache()
    }

    /// Remembers a refusal (not active, wrong `aud`) `ttl` at most; never longer than answers.
    pub fn with_negative_ttl(mut self, ttl: Duration) -> Self {
        self.negative_ttl = ttl;
        self
    }

    /// Remembers at most `entries` answers at once.
    pub fn with_max_entries(mut self, entries: usize) -> Self {
        self.max_entries = entries.max(1);
        self.with_fresh_cache()
    }

    /// Refuses an answer the issuer did not sign (RFC 9701): every answer must be a JWT signed with one of
    /// the issuer's published keys, naming the issuer as `iss` and this API (`aud`: its client id or one of
    /// the authority's audiences). For an issuer that signs this client's answers; an unsigned answer (a
    /// misconfiguration, or someone in the middle) is then 503 and logged. Without it, a signed answer is
    /// verified all the same, and an unsigned one is taken (over TLS).
    pub fn requiring_signed_answers(mut self) -> Self {
        self.signed_only = true;
        self
    }

    /// Sends its requests with `client`, within the time and size limits of [`KeyRefresh`](super::KeyRefresh).
    pub fn with_http_client(mut self, client: reqwest::Client) -> Self {
        self.provider = self.provider.with_http_client(client);
        self
    }

    /// Accepts `http://` URLs on any host (see [`Provider::allowing_plain_http`]).
    pub fn allowing_plain_http(mut self) -> Self {
        self.provider = self.provider.allowing_plain_http();
        self
    }

    /// The issuer, as its answers must name it in `iss` (when they name one).
    pub fn issuer(&self) -> &str {
        self.provider.issuer()
    }

    /// How long answers are remembered.
    pub fn cache_ttl(&self) -> Duration {
        self.ttl
    }

    fn with_fresh_cache(mut self) -> Self {
        self.cache = (!self.ttl.is_zero()).then(|| Arc::new(AnswerCache::new(self.max_entries)));
        self
    }

    /// Checks the issuer and endpoint URLs (`https`, or `http` on loopback).
    pub(crate) fn check_urls(&self) -> Result<(), ProviderError> {
        check_url(&self.provider.issuer, self.provider.plain_http)?;
        if let Some(endpoint) = self.endpoint.get() {
            check_url(endpoint, self.provider.plain_http)?;
        }
        Ok(())
    }

    /// Forgets what was remembered of `token`: for a token this API has just revoked.
    pub fn forget(&self, token: &str) {
        if let Some(cache) = &self.cache {
            cache.remove(&digest(token));
        }
    }

    /// Revokes `token` at the issuer's revocation endpoint (RFC 7009, found by discovery), and forgets it
    /// here at once. `Err` when the issuer has no revocation endpoint or cannot be reached (the token is
    /// forgotten here all the same, so it is asked about again).
    pub async fn revoke(&self, token: &str) -> Result<(), TokenError> {
        self.forget(token);
        let unavailable = TokenError::ProviderUnavailable { retry_after: Self::RETRY_AFTER };
        let endpoint = self
            .revocation
            .get_or_try_init(|| async { self.metadata_endpoint(|metadata| metadata.revocation_endpoint).await })
            .await
            .map_err(|_| unavailable.clone())?
            .clone()
            .ok_or_else(|| unavailable.clone())?;
        let client = fetch::client_for(&self.provider).map_err(|_| unavailable.clone())?;
        let request = self.auth.authenticate(client.post(&endpoint), &[("token", token)]);
        match fetch::exchange(request, &self.provider, &endpoint).await {
            Ok(_) => Ok(()),
            Err(error) => {
                tracing::warn!(%error, "the token could not be revoked at its issuer");
                Err(unavailable)
            }
        }
    }

    /// Asks the issuer about `token`, or answers from what was remembered.
    async fn introspect(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let Some(cache) = &self.cache else {
            return self.ask(token, policy).await.map(|(claims, _)| claims);
        };
        let key = digest(token);
        loop {
            match cache.get_value_or_guard_async(&key).await {
                Ok(remembered) if remembered.until >= unix_now() => {
                    return remembered.verdict.map(Arc::unwrap_or_clone);
                }
                // Past its time: dropped unless another request has just replaced it.
                Ok(_) => {
                    cache.remove_if(&key, |remembered| remembered.until < unix_now());
                }
                // This request asks; any other with the same token waits for its answer.
                Err(guard) => {
                    let asked = self.ask(token, policy).await;
                    let now = unix_now();
                    let (verdict, until) = match asked {
                        Ok((claims, exp)) => {
                            let until = now.saturating_add(self.ttl.as_secs()).min(exp);
                            (Ok(Arc::new(claims)), until)
                        }
                        // An outage is remembered a second, so a crowd waiting on one token does not
                        // queue a call each; a refusal, for the negative TTL.
                        Err(TokenError::ProviderUnavailable { retry_after }) => {
                            (Err(TokenError::ProviderUnavailable { retry_after }), now + 1)
                        }
                        Err(refused) => {
                            let ttl = self.negative_ttl.min(self.ttl).as_secs();
                            (Err(refused), now.saturating_add(ttl))
                        }
                    };
                    let _ = guard.insert(Remembered { until, verdict: verdict.clone() });
                    return verdict.map(Arc::unwrap_or_clone);
                }
            }
        }
    }

    /// One call to the introspection endpoint: the claims of an active token that hold under `policy`,
    /// and its `exp`.
    async fn ask(&self, token: &str, policy: &Policy) -> Result<(Claims, u64), TokenError> {
        let unavailable = TokenError::ProviderUnavailable { retry_after: Self::RETRY_AFTER };
        let endpoint = self
            .endpoint
            .get_or_try_init(|| async {
                self.metadata_endpoint(|metadata| metadata.introspection_endpoint).await?.ok_or_else(|| {
                    FetchError::BadMetadata {
                        url: self.provider.issuer.clone(),
                        reason: "the discovery document names no `introspection_endpoint`".into(),
                    }
                })
            })
            .await
            .map_err(|error| {
                tracing::error!(%error, "the issuer's introspection endpoint cannot be found: tokens are answered 503");
                unavailable.clone()
            })?;
        let client = fetch::client_for(&self.provider).map_err(|_| unavailable.clone())?;
        let form = [("token", token), ("token_type_hint", "access_token")];
        // RFC 9701 §4: a signed answer if the issuer makes one for this client, plain JSON otherwise.
        let accept = if self.signed_only {
            SIGNED_ANSWER
        } else {
            "application/token-introspection+jwt, application/json;q=0.9"
        };
        let request = self.auth.authenticate(client.post(endpoint).header(ACCEPT, accept), &form);
        let answer = match fetch::exchange(request, &self.provider, endpoint).await {
            Ok(Some((body, headers))) => {
                let content_type = headers.get(CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default();
                if content_type.starts_with(SIGNED_ANSWER) {
                    self.verified_answer(&body, policy).await?
                } else if self.signed_only {
                    tracing::error!(%endpoint, "the introspection endpoint answered unsigned where signed answers are required: the token is answered 503");
                    return Err(unavailable);
                } else {
                    body
                }
            }
            // RFC 7662 §2.3: the issuer will not say (a token of a kind it does not introspect, such as its
            // own JWTs at some servers): nothing here can check it.
            Err(FetchError::Status { status: 400, .. }) => return Err(TokenError::Inactive),
            Err(FetchError::Status { status: status @ (401 | 403), .. }) => {
                tracing::error!(%endpoint, status, "the introspection endpoint refuses this API's client credentials: tokens are answered 503");
                return Err(unavailable);
            }
            Ok(None) | Err(_) => {
                tracing::warn!(%endpoint, "the introspection endpoint did not answer: the token is answered 503");
                return Err(unavailable);
            }
        };
        let serde_json::Value::Object(mut answer) = serde_json::from_slice(&answer).map_err(|_| unavailable.clone())?
        else {
            return Err(unavailable);
        };
        if answer.remove("active") != Some(serde_json::Value::Bool(true)) {
            return Err(TokenError::Inactive);
        }
        // A client's own token (client credentials) names no user: its subject is the client.
        if !answer.contains_key("sub")
            && let Some(client) = answer.get("client_id").cloned()
        {
            answer.insert("sub".into(), client);
        }
        // RFC 7662 makes `exp` optional: without one, an answer holds as long as the cache keeps it.
        let exp = answer.get("exp").and_then(serde_json::Value::as_u64);
        let exp = exp.unwrap_or_else(|| unix_now().saturating_add(self.ttl.as_secs()));
        answer.insert("exp".into(), exp.into());
        let claims = Claims::from_json(serde_json::Value::Object(answer), &ScopeClaim::Scope)?;
        policy.check(&claims)?;
        Ok((claims, exp))
    }

    /// The `token_introspection` member of a signed answer (RFC 9701 §5), once its signature (by a key the
    /// issuer publishes, fetched again for a `kid` it lacks), `typ`, `iss` and `aud` are checked: as JSON.
    async fn verified_answer(&self, jwt: &[u8], policy: &Policy) -> Result<Vec<u8>, TokenError> {
        let unavailable = TokenError::ProviderUnavailable { retry_after: Self::RETRY_AFTER };
        let refused = |why: &str| {
            tracing::error!(reason = why, "a signed introspection answer does not verify: the token is answered 503");
            unavailable.clone()
        };
        let jwt = std::str::from_utf8(jwt).map_err(|_| refused("not text"))?.trim();
        let header = jsonwebtoken::decode_header(jwt).map_err(|_| refused("not a JWT"))?;
        if !header.typ.as_deref().is_some_and(|typ| typ.eq_ignore_ascii_case("token-introspection+jwt")) {
            return Err(refused("its `typ` is not `token-introspection+jwt`"));
        }
        let live = self
            .answer_keys
            .get_or_init(|| async { LiveKeys::start(self.provider.clone(), &tokio::runtime::Handle::current()) })
            .await;
        let arrived = tokio::time::Instant::now();
        let key = loop {
            let snapshot = live.snapshot();
            match snapshot.as_ref().map(|snapshot| snapshot.keys.select(&header)) {
                Some(Ok(key)) => break key.clone(),
                Some(Err(crate::keys::Unselected::WrongAlgorithm)) => {
                    return Err(refused("the key's algorithm is another"));
                }
                Some(Err(crate::keys::Unselected::UnknownKey)) | None => {}
            }
            let seen = arc_swap::Guard::into_inner(snapshot);
            match live.refetch(header.kid.as_deref(), seen.as_deref(), arrived, true).await {
                Refetch::Changed => continue,
                Refetch::Unchanged | Refetch::Unavailable { .. } => return Err(refused("no key of the issuer's")),
            }
        };
        let mut validation = jsonwebtoken::Validation::new(key.algorithm);
        validation.validate_exp = false;
        validation.validate_aud = false;
        validation.set_issuer(&[self.provider.issuer()]);
        validation.set_required_spec_claims(&["iss", "aud"]);
        let answer = jsonwebtoken::decode::<serde_json::Value>(jwt, &key.key, &validation)
            .map_err(|_| refused("its signature or `iss` does not verify"))?
            .claims;
        // RFC 9701 §5: `aud` names the resource server: its client id, or (as some issuers write it) one of
        // the API's audiences.
        let client_id = match &self.auth {
            ClientAuth::SecretBasic { id, .. } | ClientAuth::SecretPost { id, .. } => id.as_str(),
        };
        let names_us = |aud: &str| aud == client_id || policy.audiences().iter().any(|ours| ours == aud);
        let addressed = match &answer["aud"] {
            serde_json::Value::String(aud) => names_us(aud),
            serde_json::Value::Array(auds) => auds.iter().filter_map(serde_json::Value::as_str).any(names_us),
            _ => false,
        };
        if !addressed {
            return Err(refused("its `aud` names neither this client nor this API"));
        }
        let introspected = answer.get("token_introspection").filter(|member| member.is_object());
        let introspected = introspected.ok_or_else(|| refused("it has no `token_introspection` object"))?;
        serde_json::to_vec(introspected).map_err(|_| unavailable.clone())
    }

    /// An endpoint the discovery document names (`pick` says which).
    async fn metadata_endpoint(
        &self,
        pick: impl FnOnce(super::fetch::ProviderMetadata) -> Option<String>,
    ) -> Result<Option<String>, FetchError> {
        let client = fetch::client_for(&self.provider)?;
        let metadata = fetch::discover(client, &self.provider).await?;
        let Some(endpoint) = pick(metadata) else { return Ok(None) };
        check_url(&endpoint, self.provider.plain_http)
            .map_err(|error| FetchError::BadMetadata { url: endpoint.clone(), reason: error.to_string() })?;
        Ok(Some(endpoint))
    }
}

/// The token's SHA-256: what answers are remembered by, so the cache holds no token.
fn digest(token: &str) -> [u8; 32] {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    let mut key = [0; 32];
    key.copy_from_slice(digest.as_ref());
    key
}

impl Verifier for Introspection {
    fn kind(&self) -> &'static str {
        "introspection"
    }

    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
        Verifying::wait(self.introspect(token, policy))
    }
}

// The test kit's fake provider answers the introspections.
#[cfg(all(test, feature = "testing"))]
mod tests {
    use super::*;
    use crate::authority::Authority;
    use crate::testing::{FakeProvider, INTROSPECTION_CLIENT};

    const API: &str = "https://api.example";

    fn authority(provider: &FakeProvider, auth: ClientAuth) -> Authority {
        let introspection = Introspection::discover(provider.issuer(), auth).with_cache_ttl(Duration::from_secs(30));
        Authority::from_introspection(introspection, API).unwrap()
    }

    fn api_client() -> ClientAuth {
        ClientAuth::secret_basic(INTROSPECTION_CLIENT.0, INTROSPECTION_CLIENT.1)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forty_requests_at_once_with_one_token_make_one_call() {
        let provider = FakeProvider::start().await;
        let authority = authority(&provider, api_client());
        let token = provider.opaque_token("johndoe", ["me", "items"], API);
        let verdicts = futures_util::future::join_all((0..40).map(|_| authority.verify_async(&token))).await;
        assert!(verdicts.iter().all(|verdict| verdict.as_ref().is_ok_and(|claims| claims.scopes == ["me", "items"])));
        assert_eq!(provider.introspections(), 1);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn inactive_foreign_and_unknown_tokens_are_refused_and_refusals_remembered() {
        let provider = FakeProvider::start().await;
        let authority = authority(&provider, api_client());
        let elsewhere = provider.opaque_token("johndoe", ["me"], "https://other.example");
        assert!(matches!(authority.verify_async(&elsewhere).await, Err(TokenError::InvalidClaims(_))));
        assert_eq!(authority.verify_async("never-issued").await.unwrap_err(), TokenError::Inactive);
        assert_eq!(authority.verify_async("never-issued").await.unwrap_err(), TokenError::Inactive);
        assert_eq!(provider.introspections(), 2, "the second refusal is remembered");

        let revoked = provider.opaque_token("johndoe", ["me"], API);
        assert!(authority.verify_async(&revoked).await.is_ok());
        provider.revoke(&revoked);
        assert!(authority.verify_async(&revoked).await.is_ok(), "remembered until its TTL");
        authority.introspection().unwrap().forget(&revoked);
        assert_eq!(authority.verify_async(&revoked).await.unwrap_err(), TokenError::Inactive);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wrong_client_credentials_or_no_provider_are_answered_as_unavailable() {
        let provider = FakeProvider::start().await;
        let wrong = authority(&provider, ClientAuth::secret_basic("api", "not-the-secret"));
        let token = provider.opaque_token("johndoe", ["me"], API);
        assert!(matches!(wrong.verify_async(&token).await, Err(TokenError::ProviderUnavailable { .. })));
        let issuer = provider.issuer().to_owned();
        drop(provider);
        let gone = Introspection::at(&issuer, format!("{issuer}/introspect"), api_client());
        let gone = Authority::from_introspection(gone, API).unwrap();
        assert!(matches!(gone.verify_async(&token).await, Err(TokenError::ProviderUnavailable { .. })));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_signed_answer_is_verified_with_the_issuers_keys_and_required_when_asked() {
        let provider = FakeProvider::start().await;
        let token = provider.opaque_token("johndoe", ["me"], API);
        let requiring = |provider: &FakeProvider| {
            let introspection = Introspection::discover(provider.issuer(), api_client()).requiring_signed_answers();
            Authority::from_introspection(introspection, API).unwrap()
        };
        // Unsigned where signed ones are required: not taken.
        let unsigned = requiring(&provider).verify_async(&token).await;
        assert!(matches!(unsigned, Err(TokenError::ProviderUnavailable { .. })), "{unsigned:?}");
        provider.sign_introspections();
        let signed = requiring(&provider).verify_async(&token).await;
        assert_eq!(signed.map(|claims| claims.sub).as_deref(), Ok("johndoe"));
        // Taken opportunistically too, and verified: after a rotation the new key is fetched for it.
        provider.rotate();
        assert!(authority(&provider, api_client()).verify_async(&token).await.is_ok());
        let revoked = provider.opaque_token("johndoe", ["me"], API);
        provider.revoke(&revoked);
        assert_eq!(requiring(&provider).verify_async(&revoked).await.unwrap_err(), TokenError::Inactive);

        // An answer signed by another issuer (its own key-1, its own `iss`), at this issuer's name: refused.
        let impostor = FakeProvider::start().await;
        impostor.sign_introspections();
        let stolen = impostor.opaque_token("johndoe", ["me"], API);
        let misled = Introspection::at(provider.issuer(), format!("{}/introspect", impostor.issuer()), api_client());
        let misled = Authority::from_introspection(misled, API).unwrap();
        assert!(matches!(misled.verify_async(&stolen).await, Err(TokenError::ProviderUnavailable { .. })));
    }

    #[test]
    fn the_cache_is_keyed_by_a_digest_not_the_token() {
        assert_eq!(digest("a token").len(), 32);
        assert_ne!(digest("a token"), digest("a tokeN"));
    }
}

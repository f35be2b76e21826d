//! The token endpoint ([`TokenEndpoint`]): the password grant, throttled and queued, and (in `refresh`)
//! the refresh-token grant and revocation; and the client's address ([`ClientAddress`]) it throttles by.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use super::form::no_store;
use super::password::{CheckError, PasswordChecker, PasswordPolicy, Verdict};
use super::queue::PasswordCheckLimits;
#[cfg(feature = "redis")]
use super::throttle::RedisThrottle;
use super::throttle::{LoginThrottle, Refusal, ThrottlePolicy, client_bucket};
use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::issuing::binding::TokenRequestProof;
use crate::issuing::form::{PasswordRequestForm, TokenRequest};
use crate::issuing::refresh::RefreshSeen;
use crate::issuing::response::TokenResponse;
use crate::observing::metrics as names;
use crate::observing::{self, AuditEvent, Login, LoginOutcome, RefreshOutcome};
use crate::registry::requirement::unique_in_order;
use crate::registry::{Registry, TokenUrl};
use crate::store::{Account, AccountStore, RefreshPolicy, STORE_RETRY_AFTER};

/// The client's IP address, when the server was started with connection info
/// (`into_make_service_with_connect_info::<SocketAddr>()`); `None` otherwise, and then every client
/// counts as one for throttling. Behind a reverse proxy, put the client's address (from a header the
/// proxy sets and you trust) in `ConnectInfo` yourself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl ClientAddress {
    /// The client as throttling and fair queueing tell clients apart: its IP address, an IPv6 address by
    /// its /64 prefix (one subscriber's allocation, which an attacker holds whole), an IPv4-mapped IPv6
    /// address as the IPv4 one. A server capping connections per client should count by it too.
    ///
    /// ```
    /// use scopes_runtime::issuing::ClientAddress;
    /// let client = ClientAddress(Some("2001:db8:1:2:3:4:5:6".parse().unwrap()));
    /// assert_eq!(client.bucket(), Some("2001:db8:1:2::".parse().unwrap()));
    /// ```
    pub fn bucket(&self) -> Option<IpAddr> {
        client_bucket(self.0)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())))
    }
}

/// The password grant: checks the password, throttles failures, grants scopes, issues the token.
///
/// Answers in the authority's [`ResponseStyle`](crate::ResponseStyle), always with
/// `Cache-Control: no-store` and `Pragma: no-cache`. Cheap to clone: clones share the throttle and the
/// queue. Building one makes the stand-in hash for unknown users (once per bcrypt cost in a process), so
/// build it at start-up.
///
/// ```
/// use axum::extract::{FromRef, State};
/// use axum::response::Response;
/// use axum::{Router, routing::post};
/// use scopes_runtime::{Account, Authority, issuing::ClientAddress, store::MemoryStore, PasswordRequestForm, TokenEndpoint};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority, tokens: TokenEndpoint, users: MemoryStore }
///
/// async fn token(State(state): State<AppState>, client: ClientAddress, form: PasswordRequestForm) -> Response {
///     // A store that cannot answer (a database outage) makes the login 503, counted for nothing.
///     state.tokens.grant(client, form, &state.users).await
/// }
///
/// # fn main() {
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// let johndoe = "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW";
/// let users = MemoryStore::new([Account::new("johndoe", johndoe).with_scopes(["me"])]);
/// let tokens = TokenEndpoint::new(authority.clone(), &SCOPE_REGISTRY);
/// let app: Router = Router::new().route("/token", post(token)).with_state(AppState { authority, tokens, users });
/// # }
/// ```
#[derive(Clone)]
pub struct TokenEndpoint {
    pub(super) authority: Authority,
    pub(super) registry: &'static Registry,
    throttle: LoginThrottle,
    passwords: Arc<PasswordChecker>,
    pub(super) refresh: RefreshPolicy,
}

impl fmt::Debug for TokenEndpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenEndpoint")
            .field("authority", &self.authority)
            .field("throttle", &self.throttle)
            .field("passwords", &self.passwords)
            .finish_non_exhaustive()
    }
}

impl TokenEndpoint {
    /// Issues tokens with `authority` for the scopes declared in `registry`, with the default
    /// [`ThrottlePolicy`], [`PasswordPolicy`] (Argon2id, OWASP's parameters) and [`PasswordCheckLimits`].
    ///
    /// `registry` must declare `token_url` (where this endpoint is served): without it, this is a compile
    /// error saying so.
    ///
    /// ```compile_fail
    /// scopes_runtime::registry! { scheme = "OAuth2", scopes = { "me" => "Read information about the current user." } }
    /// # fn main() {
    /// let authority = scopes_runtime::Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// let _ = scopes_runtime::TokenEndpoint::new(authority, &SCOPE_REGISTRY); // no `token_url`
    /// # }
    /// ```
    pub fn new(authority: Authority, registry: &'static impl TokenUrl) -> Self {
        TokenEndpoint {
            authority,
            registry: registry.registry(),
            throttle: LoginThrottle::default(),
            passwords: Arc::new(PasswordChecker::new(PasswordPolicy::default(), None, PasswordCheckLimits::default())),
            refresh: RefreshPolicy::default(),
        }
    }

    /// Throttles failures with `policy` instead.
    ///
    /// ```
    /// # scopes_runtime::registry! { scheme = "OAuth2PasswordBearer", token_url = "token", scopes = {} }
    /// # fn main() {
    /// use scopes_runtime::{Authority, issuing::ThrottlePolicy, TokenEndpoint};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// let tokens = TokenEndpoint::new(authority, &SCOPE_REGISTRY)
    ///     .with_throttle(ThrottlePolicy { attempts_per_pair: 5, ..ThrottlePolicy::default() });
    /// # let _ = tokens;
    /// # }
    /// ```
    pub fn with_throttle(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = self.throttle.with_policy(policy);
        self
    }

    /// Keeps the throttle's counts in Redis, under the policy set so far (or later, by
    /// [`with_throttle`](Self::with_throttle)), so that every replica sharing it enforces one policy: the
    /// attempts a pair is allowed are allowed in all, not once per replica. While Redis cannot be
    /// reached, logins are answered 503 and no password is checked.
    #[cfg(feature = "redis")]
    pub fn with_redis_throttle(mut self, redis: RedisThrottle) -> Self {
        self.throttle = LoginThrottle::Redis(redis.with_policy(*self.throttle.policy()));
        self
    }

    /// Hashes passwords under `policy`: a successful login with a hash it does not make replaces the hash,
    /// and an unknown user's login costs what a known one's does under it. Expects every stored hash to be
    /// made under it; say otherwise with [`with_legacy_hashes`](Self::with_legacy_hashes), after this.
    pub fn with_password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.passwords = Arc::new(PasswordChecker::new(policy, None, self.passwords.limits()));
        self
    }

    /// Says the store may still hold hashes made under `legacy` (the tutorial's bcrypt at cost 12, say),
    /// each replaced at its owner's next successful login. Until then, every failed check takes at least as
    /// long as checking such a hash (a quicker one waits out the difference, off the queue): without it,
    /// a wrong password would answer sooner for an unknown user, or for one whose hash was already
    /// upgraded, than for one whose hash was not, and tell them apart. Drop it once no legacy hash remains.
    ///
    /// ```
    /// # scopes_runtime::registry! { scheme = "OAuth2PasswordBearer", token_url = "token", scopes = {} }
    /// # fn main() {
    /// use scopes_runtime::{Authority, issuing::PasswordPolicy, TokenEndpoint};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// let tokens = TokenEndpoint::new(authority, &SCOPE_REGISTRY).with_legacy_hashes(PasswordPolicy::bcrypt(4).unwrap());
    /// # let _ = tokens;
    /// # }
    /// ```
    pub fn with_legacy_hashes(mut self, legacy: PasswordPolicy) -> Self {
        let (policy, limits) = (self.passwords.policy(), self.passwords.limits());
        self.passwords = Arc::new(PasswordChecker::new(policy, Some(legacy), limits));
        self
    }

    /// Runs and queues password checks within `limits` instead.
    pub fn with_check_limits(mut self, limits: PasswordCheckLimits) -> Self {
        let (policy, legacy) = (self.passwords.policy(), self.passwords.legacy());
        self.passwords = Arc::new(PasswordChecker::new(policy, legacy, limits));
        self
    }

    /// Issues refresh tokens living as `policy` says (with a store that keeps them).
    pub fn with_refresh_policy(mut self, policy: RefreshPolicy) -> Self {
        self.refresh = policy;
        self
    }

    /// The throttle's policy.
    pub fn throttle_policy(&self) -> &ThrottlePolicy {
        self.throttle.policy()
    }

    /// How many entries the throttle tracks now, at most [`ThrottlePolicy::max_entries`]: for monitoring
    /// its memory.
    pub fn throttle_entries(&self) -> usize {
        self.throttle.tracked()
    }

    /// Runs the grant `request` asks for (a [`PasswordRequestForm`], or a [`TokenRequest`] for either
    /// grant), finding the user in `store`.
    ///
    /// The password grant: a store that cannot answer is logged and answered 503 with `Retry-After`, and
    /// counts as no attempt; it is not asked while the attempt is refused by the throttle. After a
    /// successful login with a hash the policy no longer makes (bcrypt, or other Argon2id parameters), the
    /// hash is replaced in the store; a failure to replace it is logged and the login still succeeds. When
    /// the store [keeps refresh tokens](AccountStore::refresh_tokens), the answer carries one (not
    /// for a disabled user).
    ///
    /// The refresh-token grant (only with such a store; otherwise `unsupported_grant_type`): see
    /// [`RefreshPolicy`] and the crate's README. It is not throttled: a refresh token is 256 random bits.
    pub async fn grant<S: AccountStore>(
        &self,
        client: ClientAddress,
        request: impl Into<TokenRequest>,
        store: &S,
    ) -> Response {
        self.grant_with_proof(client, TokenRequestProof::none(), request, store).await
    }

    /// Runs the grant as [`grant`](Self::grant) does, binding the tokens it issues to the client's key when
    /// the request carries a DPoP proof and the authority takes DPoP ([`Authority::with_dpop`]): the access
    /// token's `cnf.jkt` names the key and the answer says `token_type: DPoP` (RFC 9449 §5); a refresh
    /// token issued with it is bound to the same key, and refreshed only with a proof by it. A proof that
    /// fails a check is answered 400 `invalid_dpop_proof`; where DPoP is required, so is a request without
    /// one.
    pub async fn grant_with_proof<S: AccountStore>(
        &self,
        client: ClientAddress,
        proof: TokenRequestProof,
        request: impl Into<TokenRequest>,
        store: &S,
    ) -> Response {
        let answered = match request.into() {
            TokenRequest::Password(form) => {
                let username = observing::bounded(&form.username).into_owned();
                let answered = self.try_grant(client, form, store, &proof).await;
                let outcome = match &answered {
                    Ok(_) => LoginOutcome::Granted,
                    Err(refused) => refused.outcome,
                };
                let username = username.into();
                self.authority.report(AuditEvent::Login(Login { username, client: client.0, outcome }));
                answered.map_err(|refused| refused.error)
            }
            TokenRequest::Refresh(form) => {
                let mut seen = RefreshSeen::default();
                let answered = self.try_refresh(client, form, store, &mut seen, &proof).await;
                let refresh = seen.event(client, answered.as_ref().err());
                if refresh.outcome == RefreshOutcome::Unavailable {
                    metrics::counter!(names::STORE_ERRORS, "store" => "refresh_tokens").increment(1);
                }
                self.authority.report(AuditEvent::Refresh(refresh));
                answered
            }
        };
        let response = match answered {
            Ok(token) => Json(token).into_response(),
            Err(error) => self.authority.refuse(&error),
        };
        no_store(response)
    }

    async fn try_grant<S: AccountStore>(
        &self,
        client: ClientAddress,
        form: PasswordRequestForm,
        store: &S,
        proof: &TokenRequestProof,
    ) -> Result<TokenResponse, LoginRefused> {
        let requested = self.declared(form.scopes())?;
        // Checked before the password: a refused proof costs the client no attempt.
        let bound_to = self.proof_key(proof).await?;
        let bound_to = bound_to.as_deref();
        // Reserved before anything is checked: however many attempts arrive at once, no more are evaluated
        // than the policy allows.
        let reservation = match self.throttle.reserve(&form.username, client.0).await {
            Ok(reservation) => reservation,
            Err(Refusal::TooMany(retry_after)) => {
                metrics::counter!(names::THROTTLE_LOCKS).increment(1);
                return Err(AuthError::TooManyRequests { retry_after }.into());
            }
            Err(Refusal::Unavailable) => {
                metrics::counter!(names::STORE_ERRORS, "store" => "redis").increment(1);
                return Err(AuthError::ServiceUnavailable { retry_after: STORE_RETRY_AFTER }.into());
            }
        };
        if !reservation.delay.is_zero() {
            tokio::time::sleep(reservation.delay).await;
        }
        let account = match store.find(&form.username).await {
            Ok(account) => account,
            Err(error) => {
                tracing::error!(%error, "answering 503 to a login");
                metrics::counter!(names::STORE_ERRORS, "store" => "accounts").increment(1);
                reservation.withdrawn().await;
                return Err(AuthError::ServiceUnavailable { retry_after: STORE_RETRY_AFTER }.into());
            }
        };
        let hash = account.as_ref().map(|account| account.password_hash.clone());
        let verdict = match self.passwords.verify(client.bucket(), form.password.clone(), hash).await {
            Ok(verdict) => verdict,
            Err(CheckError::Busy(busy)) => {
                reservation.withdrawn().await;
                let error = AuthError::ServiceUnavailable { retry_after: busy.retry_after };
                return Err(LoginRefused { error, outcome: LoginOutcome::QueueFull });
            }
            Err(CheckError::Internal(reason)) => {
                reservation.withdrawn().await;
                return Err(AuthError::Internal(reason).into());
            }
        };
        let Verdict { matched, rehashed } = verdict;
        let Some(account) = account.filter(|_| matched) else {
            reservation.failed().await;
            return Err(AuthError::IncorrectCredentials.into());
        };
        reservation.succeeded().await;
        if let Some(rehashed) = rehashed {
            replace_outdated_hash(store, &account, &rehashed).await;
        }

        let granted: Vec<&str> = requested
            .into_iter()
            .filter(|scope| self.registry.scope(scope).is_some_and(|scope| scope.is_held_by(&account.allowed_scopes)))
            .collect();
        if let Some(tokens) = store.refresh_tokens()
            && !account.disabled
        {
            // The family first: the access token names it (`sid`), so that revoking it ends both.
            let (refresh_token, family) =
                self.start_refresh_family(tokens, &account.username, &granted, bound_to).await?;
            let access_token = self.authority.issue_in_session(&account.username, &granted, Some(&family), bound_to)?;
            let response = self.token_response(access_token, &granted, bound_to);
            return Ok(response.with_refresh_token(refresh_token));
        }
        let access_token = self.authority.issue_in_session(&account.username, &granted, None, bound_to)?;
        Ok(self.token_response(access_token, &granted, bound_to))
    }

    /// The answer carrying `access_token`, which grants `granted` and is bound to the key `bound_to` if given.
    pub(super) fn token_response(
        &self,
        access_token: String,
        granted: &[&str],
        bound_to: Option<&str>,
    ) -> TokenResponse {
        let response = TokenResponse::bearer(access_token, self.authority.token_lifetime(), granted);
        if bound_to.is_some() { response.bound_to_key() } else { response }
    }

    /// The requested scopes that are declared, each once, in the order asked. Read strictly, an undeclared
    /// scope is [`AuthError::InvalidScope`]; read leniently (as FastAPI does), it is left out.
    pub(super) fn declared<'f>(&self, requested: Vec<&'f str>) -> Result<Vec<&'f str>, AuthError> {
        let is_declared = |scope: &&str| self.registry.description(scope).is_some();
        if self.authority.request_parsing().is_strict()
            && let Some(undeclared) = requested.iter().find(|scope| !is_declared(scope))
        {
            return Err(AuthError::InvalidScope { scope: (*undeclared).to_owned() });
        }
        Ok(unique_in_order(requested.into_iter().filter(is_declared)))
    }
}

/// A refused login: the refusal, and the outcome its event and metric record.
pub(super) struct LoginRefused {
    error: AuthError,
    outcome: LoginOutcome,
}

impl From<AuthError> for LoginRefused {
    fn from(error: AuthError) -> Self {
        let outcome = match &error {
            AuthError::IncorrectCredentials => LoginOutcome::InvalidGrant,
            AuthError::TooManyRequests { .. } => LoginOutcome::Throttled,
            AuthError::ServiceUnavailable { .. } => LoginOutcome::Unavailable,
            AuthError::Internal(_) => LoginOutcome::Error,
            _ => LoginOutcome::InvalidRequest,
        };
        LoginRefused { error, outcome }
    }
}

/// Stores the hash that replaces `account`'s outdated one, unless it changed meanwhile. The login has
/// succeeded either way: a store that cannot take the new hash now will be asked again at the next one.
async fn replace_outdated_hash<S: AccountStore>(store: &S, account: &Account, rehashed: &str) {
    match store.replace_password_hash(&account.username, &account.password_hash, rehashed).await {
        Ok(true) => tracing::info!(user = %account.username, "password hash replaced under the current policy"),
        Ok(false) => tracing::info!(user = %account.username, "password changed meanwhile; its new hash is kept"),
        Err(error) => tracing::warn!(%error, user = %account.username, "outdated password hash not replaced"),
    }
}

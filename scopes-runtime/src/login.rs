//! The token endpoint's password grant (RFC 6749 §4.3), hardened: failed logins are throttled per
//! username and per client address, unknown users cost the same bcrypt work as known ones, and a token
//! carries only scopes that are declared and that the user is allowed.

use std::collections::HashMap;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::form::no_store;
use crate::guard::unique_in_order;
use crate::{AuthError, Authority, PasswordRequestForm, Registry, TokenResponse, verify_password};

/// What the token endpoint needs to know of a user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The token's `sub`.
    pub subject: String,
    /// The user's bcrypt hash.
    pub password_hash: String,
    /// The scopes this user may be granted, and (through the registry's hierarchy) every scope they
    /// imply; a request for others is granted without them.
    pub allowed_scopes: Vec<String>,
}

/// The client's IP address, when the server was started with connection info
/// (`into_make_service_with_connect_info::<SocketAddr>()`); `None` otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddress(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddress {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddress(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())))
    }
}

/// When failed logins are slowed down and then refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures within the window answered at full speed.
    pub free_failures: u32,
    /// Failures within the window after which logins are refused with 429 until it ends.
    pub max_failures: u32,
    /// How long failures are remembered, counted from the first.
    pub window: Duration,
    /// The delay added to the first slowed-down attempt; it doubles with each further failure.
    pub first_delay: Duration,
    /// The longest delay added to one attempt.
    pub max_delay: Duration,
}

impl ThrottlePolicy {
    /// Never slows down or refuses: for benchmarks that measure the bcrypt work itself.
    pub fn disabled() -> Self {
        ThrottlePolicy { free_failures: u32::MAX, max_failures: u32::MAX, ..ThrottlePolicy::default() }
    }
}

impl Default for ThrottlePolicy {
    /// Five free failures, refusal from the tenth, within fifteen minutes; delays from 250 ms to 4 s.
    fn default() -> Self {
        ThrottlePolicy {
            free_failures: 5,
            max_failures: 10,
            window: Duration::from_secs(15 * 60),
            first_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(4),
        }
    }
}

/// Counts failed logins per username and per client address, known and unknown names alike.
///
/// Memory is bounded: expired entries are dropped as new ones arrive, and beyond
/// [`MAX_TRACKED`](Self::MAX_TRACKED) keys the oldest are forgotten first.
#[derive(Debug, Clone, Default)]
pub struct LoginThrottle {
    policy: ThrottlePolicy,
    failures: Arc<Mutex<HashMap<ThrottleKey, Failures>>>,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum ThrottleKey {
    Username(String),
    Client(IpAddr),
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    since: Instant,
}

/// What the throttle says about an attempt before the password is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Proceed { delay: Duration },
    Refuse { retry_after: Duration },
}

impl LoginThrottle {
    /// How many usernames and addresses are tracked at most.
    pub const MAX_TRACKED: usize = 100_000;

    /// A throttle applying `policy`.
    pub fn new(policy: ThrottlePolicy) -> Self {
        LoginThrottle { policy, failures: Arc::default() }
    }

    fn keys(username: &str, client: ClientAddress) -> Vec<ThrottleKey> {
        let mut keys = vec![ThrottleKey::Username(username.to_owned())];
        keys.extend(client.0.map(ThrottleKey::Client));
        keys
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ThrottleKey, Failures>> {
        // A panic while holding the lock cannot leave the counts inconsistent; keep using them.
        self.failures.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn verdict(&self, keys: &[ThrottleKey], now: Instant) -> Verdict {
        let failures = self.lock();
        let mut worst = 0;
        for key in keys {
            if let Some(entry) = failures.get(key).filter(|f| now.duration_since(f.since) < self.policy.window) {
                if entry.count >= self.policy.max_failures {
                    return Verdict::Refuse { retry_after: self.policy.window - now.duration_since(entry.since) };
                }
                worst = worst.max(entry.count);
            }
        }
        let slowed = worst.saturating_sub(self.policy.free_failures);
        if worst < self.policy.free_failures {
            return Verdict::Proceed { delay: Duration::ZERO };
        }
        let delay = self.policy.first_delay.saturating_mul(1u32 << slowed.min(16));
        Verdict::Proceed { delay: delay.min(self.policy.max_delay) }
    }

    fn record_failure(&self, keys: Vec<ThrottleKey>, now: Instant) {
        let mut failures = self.lock();
        if failures.len() + keys.len() > Self::MAX_TRACKED {
            failures.retain(|_, f| now.duration_since(f.since) < self.policy.window);
            while failures.len() + keys.len() > Self::MAX_TRACKED {
                let Some(oldest) = failures.iter().min_by_key(|(_, f)| f.since).map(|(k, _)| k.clone()) else { break };
                failures.remove(&oldest);
            }
        }
        for key in keys {
            let entry = failures.entry(key).or_insert(Failures { count: 0, since: now });
            if now.duration_since(entry.since) >= self.policy.window {
                *entry = Failures { count: 0, since: now };
            }
            entry.count += 1;
        }
    }

    fn record_success(&self, username: &str) {
        // Only the username's count: an attacker's own successful logins must not clear their address.
        self.lock().remove(&ThrottleKey::Username(username.to_owned()));
    }
}

/// The password grant: checks the password, throttles failures, grants scopes, issues the token.
///
/// Answers in the authority's [`ResponseStyle`](crate::ResponseStyle), always with
/// `Cache-Control: no-store` and `Pragma: no-cache`.
///
/// ```
/// use axum::extract::{FromRef, State};
/// use axum::response::Response;
/// use axum::{Router, routing::post};
/// use scopes_runtime::{Account, Authority, ClientAddress, PasswordRequestForm, TokenEndpoint};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority, tokens: TokenEndpoint }
///
/// async fn token(State(state): State<AppState>, client: ClientAddress, form: PasswordRequestForm) -> Response {
///     state.tokens.grant(client, form, |username| async move {
///         (username == "johndoe").then(|| Account {
///             subject: username,
///             password_hash: "$2b$12$EixZaYVK1fsbw1ZfbX3OXePaWxn96p36WQoeG6Lruj3vjPGga31lW".into(),
///             allowed_scopes: vec!["me".into()],
///         })
///     }).await
/// }
///
/// # fn main() {
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// let tokens = TokenEndpoint::new(authority.clone(), &SCOPE_REGISTRY);
/// let app: Router = Router::new().route("/token", post(token)).with_state(AppState { authority, tokens });
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    authority: Authority,
    registry: &'static Registry,
    throttle: LoginThrottle,
}

impl TokenEndpoint {
    /// Issues tokens with `authority` for the scopes declared in `registry`, throttling failures with
    /// the default [`ThrottlePolicy`].
    pub fn new(authority: Authority, registry: &'static Registry) -> Self {
        TokenEndpoint { authority, registry, throttle: LoginThrottle::default() }
    }

    /// Throttles failures with `policy` instead.
    pub fn with_throttle(mut self, policy: ThrottlePolicy) -> Self {
        self.throttle = LoginThrottle::new(policy);
        self
    }

    /// Runs the grant for `form`. `find` looks the username up; it is not called while the username or
    /// address is refused for too many failures.
    pub async fn grant<F, Fut>(&self, client: ClientAddress, form: PasswordRequestForm, find: F) -> Response
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Option<Account>>,
    {
        let response = match self.try_grant(client, form, find).await {
            Ok(token) => Json(token).into_response(),
            Err(error) => self.authority.response_style().render(&error),
        };
        no_store(response)
    }

    async fn try_grant<F, Fut>(
        &self,
        client: ClientAddress,
        form: PasswordRequestForm,
        find: F,
    ) -> Result<TokenResponse, AuthError>
    where
        F: FnOnce(String) -> Fut,
        Fut: Future<Output = Option<Account>>,
    {
        let keys = LoginThrottle::keys(&form.username, client);
        match self.throttle.verdict(&keys, Instant::now()) {
            Verdict::Refuse { retry_after } => return Err(AuthError::TooManyRequests { retry_after }),
            Verdict::Proceed { delay } if !delay.is_zero() => tokio::time::sleep(delay).await,
            Verdict::Proceed { .. } => {}
        }
        let requested = self.declared_scopes(&form)?;
        let account = find(form.username.clone()).await;
        // An unknown user is checked against a stand-in hash: the same bcrypt work as a wrong password.
        let password_ok = verify_password(&form.password, account.as_ref().map(|a| a.password_hash.as_str())).await?;
        let Some(account) = account.filter(|_| password_ok) else {
            self.throttle.record_failure(keys, Instant::now());
            return Err(AuthError::IncorrectCredentials);
        };
        self.throttle.record_success(&form.username);

        let granted: Vec<&str> = requested
            .into_iter()
            .filter(|scope| self.registry.scope(scope).is_some_and(|scope| scope.is_held_by(&account.allowed_scopes)))
            .collect();
        let access_token = self.authority.issue(&account.subject, &granted)?;
        Ok(TokenResponse::bearer(access_token, self.authority.token_lifetime(), &granted))
    }

    /// The requested scopes that are declared, each once, in the order asked. In the strict (RFC) styles
    /// an undeclared scope is [`AuthError::InvalidScope`]; the seed style leaves it out.
    fn declared_scopes<'f>(&self, form: &'f PasswordRequestForm) -> Result<Vec<&'f str>, AuthError> {
        let requested = form.scopes();
        let is_declared = |scope: &&str| self.registry.description(scope).is_some();
        if self.authority.response_style().is_strict()
            && let Some(undeclared) = requested.iter().find(|scope| !is_declared(scope))
        {
            return Err(AuthError::InvalidScope { scope: (*undeclared).to_owned() });
        }
        Ok(unique_in_order(requested.into_iter().filter(is_declared)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> ThrottlePolicy {
        ThrottlePolicy {
            free_failures: 2,
            max_failures: 4,
            window: Duration::from_secs(60),
            first_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(300),
        }
    }

    #[test]
    fn failures_are_free_then_slowed_then_refused() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        let keys = LoginThrottle::keys("johndoe", ClientAddress(None));
        let mut verdicts = Vec::new();
        for _ in 0..5 {
            verdicts.push(throttle.verdict(&keys, now));
            throttle.record_failure(keys.clone(), now);
        }
        assert_eq!(
            verdicts,
            [
                Verdict::Proceed { delay: Duration::ZERO },
                Verdict::Proceed { delay: Duration::ZERO },
                Verdict::Proceed { delay: Duration::from_millis(100) },
                Verdict::Proceed { delay: Duration::from_millis(200) },
                Verdict::Refuse { retry_after: Duration::from_secs(60) },
            ]
        );
        let later = now + Duration::from_secs(61);
        assert_eq!(throttle.verdict(&keys, later), Verdict::Proceed { delay: Duration::ZERO }, "the window ends");
    }

    #[test]
    fn the_client_address_is_counted_across_usernames() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        let client = ClientAddress(Some("203.0.113.7".parse().unwrap()));
        for name in ["a", "b", "c", "d"] {
            throttle.record_failure(LoginThrottle::keys(name, client), now);
        }
        assert!(matches!(throttle.verdict(&LoginThrottle::keys("e", client), now), Verdict::Refuse { .. }));
        let elsewhere = ClientAddress(Some("198.51.100.1".parse().unwrap()));
        assert_eq!(
            throttle.verdict(&LoginThrottle::keys("e", elsewhere), now),
            Verdict::Proceed { delay: Duration::ZERO }
        );
    }

    #[test]
    fn success_clears_the_username_only() {
        let throttle = LoginThrottle::new(policy());
        let now = Instant::now();
        let client = ClientAddress(Some("203.0.113.7".parse().unwrap()));
        for _ in 0..4 {
            throttle.record_failure(LoginThrottle::keys("johndoe", client), now);
        }
        throttle.record_success("johndoe");
        assert!(matches!(throttle.verdict(&LoginThrottle::keys("johndoe", client), now), Verdict::Refuse { .. }));
        assert_eq!(
            throttle.verdict(&LoginThrottle::keys("johndoe", ClientAddress(None)), now),
            Verdict::Proceed { delay: Duration::ZERO }
        );
    }

    #[test]
    fn delays_are_capped() {
        let throttle = LoginThrottle::new(ThrottlePolicy { max_failures: 100, ..policy() });
        let now = Instant::now();
        let keys = LoginThrottle::keys("x", ClientAddress(None));
        for _ in 0..50 {
            throttle.record_failure(keys.clone(), now);
        }
        assert_eq!(throttle.verdict(&keys, now), Verdict::Proceed { delay: Duration::from_millis(300) });
    }
}

//! The one interface every verification goes through ([`Verifier`]), and the future it answers with
//! ([`Verifying`]): at once for keys in hand, boxed only when the answer must wait (keys being fetched,
//! an introspection endpoint asked).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::claims::Claims;
use super::error::TokenError;
use super::policy::Policy;

/// Turns a bearer token into verified claims, under the [`Policy`] its
/// [`Authority`](crate::authority::Authority) holds: a shared secret, a key set, providers' fetched keys
/// and an issuer's key ring each implement it, and so can an app, for tokens of its own kind (opaque
/// tokens looked up, an introspection endpoint, a legacy format).
///
/// One method, answering with a [`Verifying`]: [`Verifying::ready`] when the answer is at hand (nothing
/// is allocated), [`Verifying::wait`] when it must be awaited. The claims returned must hold under the
/// policy: decode JWTs with [`Policy::decode`], which applies all of it, or hold other claims to it with
/// [`Policy::check`]. Revocations are the authority's business, applied after the verifier.
///
/// The `Debug` output appears in the authority's: never print key material or tokens.
///
/// ```
/// use std::collections::HashMap;
/// use axum::{Router, extract::FromRef, routing::get};
/// use scopes_runtime::authority::Authority;
/// use scopes_runtime::verifying::{Policy, TokenError, Verifier, Verifying};
/// use scopes_runtime::{AuthError, Claims, Principal, requires};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "items" => "Read items." },
/// }
///
/// /// Opaque tokens handed out by some other system, each with its subject and scopes.
/// #[derive(Debug)]
/// struct AllowList(HashMap<&'static str, (&'static str, &'static [&'static str])>);
///
/// impl Verifier for AllowList {
///     fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a> {
///         let Some((subject, scopes)) = self.0.get(token) else {
///             return Verifying::ready(Err(TokenError::Malformed("not a token of the list".into())));
///         };
///         let claims = Claims::new(*subject, scopes.iter().copied(), u64::MAX / 2);
///         Verifying::ready(policy.check(&claims).map(|()| claims))
///     }
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User(String);
/// impl Principal<AppState> for User {
///     async fn from_claims(claims: &Claims, _: &AppState) -> Result<Self, AuthError> {
///         Ok(User(claims.sub.clone()))
///     }
/// }
///
/// #[requires(scopes = ["items"])]
/// async fn items(user: User) -> String { format!("items of {}", user.0) }
///
/// # fn main() {
/// let list = AllowList(HashMap::from([("opaque-1", ("johndoe", &["items"][..]))]));
/// let authority = Authority::from_verifier(list, Policy::new());
/// assert_eq!(authority.verify("opaque-1").unwrap().sub, "johndoe");
/// let app: Router = Router::new().route("/items", get(items)).with_state(AppState { authority });
/// # }
/// ```
pub trait Verifier: fmt::Debug + Send + Sync + 'static {
    /// Verifies `token` under `policy`: at once, or with a future that waits for what it needs.
    fn verify<'a>(&'a self, token: &'a str, policy: &'a Policy) -> Verifying<'a>;

    /// What kind of verifier this is, as the `verifier` label of the verification-time metric
    /// (`scopes_token_verification_seconds`) names it: one short, fixed name. `custom` unless overridden.
    fn kind(&self) -> &'static str {
        "custom"
    }

    /// Whether the [`Authority`](crate::authority::Authority) may remember this verifier's answers (see
    /// [`TokenCache`](crate::verifying::TokenCache)), and under which keys: `Some(epoch)` when the answer
    /// for a token holds until the token expires for as long as `epoch` is unchanged, a value that changes
    /// whenever a key is removed or replaced (any digest of the keys in use will do); `None`, the default,
    /// when the answers may change otherwise (a verifier that looks tokens up, or revokes them itself), and
    /// then every token is verified every time.
    ///
    /// ```
    /// use scopes_runtime::verifying::{Policy, TokenError, Verifier, Verifying};
    ///
    /// /// Tokens signed with one key that never changes: their answers may be remembered.
    /// #[derive(Debug)]
    /// struct Fixed;
    /// impl Verifier for Fixed {
    ///     fn verify<'a>(&'a self, _: &'a str, _: &'a Policy) -> Verifying<'a> {
    ///         Verifying::ready(Err(TokenError::BadSignature))
    ///     }
    ///     fn key_epoch(&self) -> Option<u64> {
    ///         Some(0)
    ///     }
    /// }
    /// assert_eq!(Fixed.key_epoch(), Some(0));
    /// ```
    fn key_epoch(&self) -> Option<u64> {
        None
    }

    /// Verifies `token` with what is in hand, never waiting: what
    /// [`Authority::verify`](crate::authority::Authority::verify) calls. The default polls
    /// [`verify`](Self::verify) once and refuses with [`TokenError::KeysUnavailable`] if it would wait;
    /// a verifier that fetches overrides it to answer from what it has.
    fn verify_now(&self, token: &str, policy: &Policy) -> Result<Claims, TokenError> {
        let mut verifying = self.verify(token, policy);
        match Pin::new(&mut verifying).poll(&mut Context::from_waker(std::task::Waker::noop())) {
            Poll::Ready(verified) => verified,
            Poll::Pending => Err(TokenError::KeysUnavailable { retry_after: std::time::Duration::ZERO }),
        }
    }
}

/// A verification under way: the answer at once, or a future to await for it. Await it.
///
/// ```
/// use scopes_runtime::Claims;
/// use scopes_runtime::verifying::Verifying;
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ready = Verifying::ready(Ok(Claims::new("johndoe", ["me"], 4_000_000_000)));
/// assert_eq!(ready.await.unwrap().sub, "johndoe");
/// let waiting = Verifying::wait(async { Ok(Claims::new("janedoe", ["me"], 4_000_000_000)) });
/// assert_eq!(waiting.await.unwrap().sub, "janedoe");
/// # });
/// ```
#[must_use = "a verification does nothing unless awaited"]
pub struct Verifying<'a>(State<'a>);

/// A verification that must be awaited, boxed.
pub(crate) type Waiting<'a> = Pin<Box<dyn Future<Output = Result<Claims, TokenError>> + Send + 'a>>;

/// A guard's verification that must be awaited, boxed: its claims shared with the token cache.
pub(crate) type WaitingShared<'a> =
    Pin<Box<dyn Future<Output = Result<std::sync::Arc<Claims>, TokenError>> + Send + 'a>>;

enum State<'a> {
    Ready(Option<Result<Claims, TokenError>>),
    Waiting(Waiting<'a>),
}

impl<'a> Verifying<'a> {
    /// The answer, at hand.
    pub fn ready(verified: Result<Claims, TokenError>) -> Self {
        Verifying(State::Ready(Some(verified)))
    }

    /// An answer that must be awaited (boxed once).
    pub fn wait(verifying: impl Future<Output = Result<Claims, TokenError>> + Send + 'a) -> Self {
        Verifying(State::Waiting(Box::pin(verifying)))
    }

    /// The answer if it is at hand, else the future to await (which is how a guard keeps only a pointer
    /// across its await).
    pub(crate) fn into_ready(self) -> Result<Result<Claims, TokenError>, Waiting<'a>> {
        match self.0 {
            State::Ready(Some(verified)) => Ok(verified),
            State::Ready(None) => Ok(Err(TokenError::Malformed("the verification was already answered".into()))),
            State::Waiting(waiting) => Err(waiting),
        }
    }
}

impl Future for Verifying<'_> {
    type Output = Result<Claims, TokenError>;

    fn poll(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            State::Ready(verified) => Poll::Ready(
                verified
                    .take()
                    .unwrap_or_else(|| Err(TokenError::Malformed("the verification was already answered".into()))),
            ),
            State::Waiting(waiting) => waiting.as_mut().poll(context),
        }
    }
}

impl fmt::Debug for Verifying<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            State::Ready(_) => "Verifying::Ready",
            State::Waiting(_) => "Verifying::Waiting",
        })
    }
}

//! How a request becomes an authorized principal: the app's [`Principal`] loader at the bottom, the
//! app's [`Guard`]s layered on top, and the scope [`Requirement`] that grows as it passes down through them.
//!
//! The order of checks is FastAPI's: bearer header, token verification, principal lookup, then the scopes
//! of the whole chain at once, then each guard's own check from the innermost out. A guard therefore never
//! sees a principal whose token lacks a scope any layer above it requires.

use std::future::Future;

use axum::extract::FromRef;
use axum::http::request::Parts;

use crate::bearer::{Credentials, bearer_credentials};
use crate::{AuthError, Authority, Claims};

/// The app's user type, loaded from a verified token (FastAPI's `get_current_user`).
///
/// ```
/// use scopes_runtime::{AuthError, Claims, Principal};
///
/// #[derive(Clone)]
/// struct AppState;
/// struct User { name: String }
///
/// impl Principal<AppState> for User {
///     async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
///         match claims.sub.as_str() {
///             "johndoe" => Ok(User { name: claims.sub.clone() }),
///             _ => Err(AuthError::invalid_token()),
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a principal for state `{S}`",
    label = "not loadable from a token",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`"
)]
pub trait Principal<S>: Sized + Send {
    /// Loads the principal the token's claims name. Return [`AuthError::invalid_token`] when the subject
    /// is unknown; the framework adds the `WWW-Authenticate` challenge.
    fn from_claims(claims: &Claims, state: &S) -> impl Future<Output = Result<Self, AuthError>> + Send;
}

/// A check layered on a principal or on another guard, with scopes of its own (FastAPI's
/// `Security(get_current_active_user, scopes=["me"])`).
///
/// Write the impl under `#[requires(scopes = [...])]`, which declares the guard's own scopes and makes
/// it usable as a handler's principal; every handler taking it requires those scopes too.
///
/// ```
/// use axum::extract::FromRef;
/// use scopes_runtime::{AuthError, Authority, Claims, Guard, Principal, requires};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User { disabled: bool }
/// # impl Principal<AppState> for User {
/// #     async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> { Ok(User { disabled: false }) }
/// # }
///
/// /// A user whose account is enabled; requires `me`.
/// struct ActiveUser(User);
///
/// #[requires(scopes = ["me"])]
/// impl Guard<AppState> for ActiveUser {
///     type Inner = User;
///     async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
///         if user.disabled { Err(AuthError::InactiveUser) } else { Ok(ActiveUser(user)) }
///     }
/// }
/// # fn main() {}
/// ```
pub trait Guard<S>: Sized + Send {
    /// The layer this guard builds on: a [`Principal`] or another guard.
    type Inner: Authorize<S>;

    /// Accepts or refuses the inner layer's result. Runs after every scope of the chain was checked.
    fn check(inner: Self::Inner, state: &S) -> impl Future<Output = Result<Self, AuthError>> + Send;
}

/// Something a handler can receive as its authorized principal: every [`Principal`], and every
/// [`Guard`] declared under `#[requires]`. Generated code calls it; apps rarely do.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[requires]` handler's principal with state `{S}`",
    label = "neither a `Principal<{S}>` nor a guard declared with `#[requires]`",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`; the state must provide an `Authority` through `FromRef`"
)]
pub trait Authorize<S>: Sized + Send {
    /// Authorizes the request against `requirement` (the scopes of every layer above this one) and
    /// produces the principal.
    fn authorize<'a>(
        parts: &'a mut Parts,
        state: &'a S,
        requirement: Requirement<'a>,
    ) -> impl Future<Output = Result<Self, AuthError>> + Send + 'a;
}

impl<S, P> Authorize<S> for P
where
    P: Principal<S>,
    S: Send + Sync,
    Authority: FromRef<S>,
{
    // Spelled out rather than `async fn`: an `async fn` here would demand `P: 'a`, which the trait does
    // not promise, while this future only borrows `parts`, `state` and `requirement` for `'a`.
    #[allow(clippy::manual_async_fn)]
    fn authorize<'a>(
        parts: &'a mut Parts,
        state: &'a S,
        requirement: Requirement<'a>,
    ) -> impl Future<Output = Result<Self, AuthError>> + Send + 'a {
        async move {
            let authority = Authority::from_ref(state);
            let token = match bearer_credentials(&parts.headers, authority.response_style().is_strict()) {
                Credentials::Missing => return Err(AuthError::MissingCredentials),
                Credentials::Malformed(description) => {
                    let malformed = AuthError::MalformedCredentials { description, challenge: Default::default() };
                    return Err(malformed.challenged_by(&requirement));
                }
                Credentials::Bearer(token) => token,
            };
            let claims = authority.verify(token).map_err(|reason| {
                tracing::debug!(%reason, "bearer token refused");
                AuthError::invalid_token().challenged_by(&requirement)
            })?;
            let principal = P::from_claims(&claims, state).await.map_err(|e| e.challenged_by(&requirement))?;
            if !requirement.is_met_by(&claims.scopes) {
                return Err(AuthError::InsufficientScope { challenge: Default::default() }.challenged_by(&requirement));
            }
            Ok(principal)
        }
    }
}

/// The scopes a request must hold: one layer's own scopes, linked to the layers above it.
///
/// Built on the stack as the request passes down the guard chain, so checking it allocates nothing.
///
/// ```
/// use scopes_runtime::Requirement;
///
/// let handler = Requirement::new(&["items"]);
/// let guard = handler.then(&["me"]);
/// assert_eq!(guard.scopes(), ["items", "me"]);
/// assert!(guard.is_met_by(&["me", "items"]));
/// assert!(!guard.is_met_by(&["me"]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    own: &'static [&'static str],
    outer: Option<&'a Requirement<'a>>,
}

impl<'a> Requirement<'a> {
    /// The outermost layer: a handler's own scopes.
    pub const fn new(scopes: &'static [&'static str]) -> Requirement<'static> {
        Requirement { own: scopes, outer: None }
    }

    /// The requirement one layer further in: this one plus `scopes`.
    pub fn then(&'a self, scopes: &'static [&'static str]) -> Requirement<'a> {
        Requirement { own: scopes, outer: Some(self) }
    }

    /// Whether `granted` holds every scope of every layer. Matching is exact and case-sensitive.
    pub fn is_met_by<T: AsRef<str>>(&self, granted: &[T]) -> bool {
        self.layers().all(|layer| layer.own.iter().all(|needed| granted.iter().any(|g| g.as_ref() == *needed)))
    }

    /// Every required scope, outermost layer first, each once.
    pub fn scopes(&self) -> Vec<&'static str> {
        let mut layers: Vec<_> = self.layers().collect();
        layers.reverse();
        unique_in_order(layers.iter().flat_map(|layer| layer.own.iter().copied()))
    }

    /// The scopes joined by single spaces, as in a `scope="..."` challenge attribute.
    pub(crate) fn scope_string(&self) -> String {
        self.scopes().join(" ")
    }

    fn layers(&self) -> impl Iterator<Item = &Requirement<'a>> {
        std::iter::successors(Some(self), |layer| layer.outer)
    }
}

/// `scopes` with repeats left out, in first-seen order: how every scope list is reported. Lists are a few
/// scopes long, so a linear check beats hashing.
pub(crate) fn unique_in_order<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut unique: Vec<&str> = Vec::new();
    for scope in scopes {
        if !unique.contains(&scope) {
            unique.push(scope);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_outermost_first_and_deduplicated() {
        let root = Requirement::new(&["items", "me"]);
        let middle = root.then(&["me"]);
        let inner = middle.then(&["admin"]);
        assert_eq!(inner.scopes(), ["items", "me", "admin"]);
        assert_eq!(inner.scope_string(), "items me admin");
    }

    #[test]
    fn empty_requirement_is_met_by_anything() {
        let none = Requirement::new(&[]);
        assert!(none.is_met_by::<&str>(&[]));
        assert_eq!(none.scope_string(), "");
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        let requirement = Requirement::new(&["items"]);
        assert!(!requirement.is_met_by(&["Items"]));
        assert!(!requirement.is_met_by(&["items "]));
        assert!(!requirement.is_met_by(&["item"]));
        assert!(requirement.is_met_by(&["items"]));
    }
}

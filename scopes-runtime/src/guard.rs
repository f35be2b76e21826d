//! How a request becomes an authorized principal: the app's [`Principal`] loader at the bottom, the
//! app's [`Guard`]s layered on top, and the scope [`Requirement`] that grows as it passes down through them.
//!
//! The order of checks is FastAPI's: bearer header, token verification, principal lookup, then the scopes
//! of the whole chain at once, then each guard's own check from the innermost out. A guard therefore never
//! sees a principal whose token lacks a scope any layer above it requires.

use std::future::Future;

use axum::extract::FromRef;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::bearer::{Credentials, bearer_credentials};
use crate::routing::Access;
use crate::verifying::verifier::Verifying;
use crate::{AuthError, Authority, Claims, Scope, TokenError};

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

    /// The scopes this principal may still exercise, when the app loads them with it (a user's allowed
    /// scopes, from the store): a token's scope then counts only where these hold it too (each through the
    /// registry's hierarchy), so a scope taken from a user stops working at once rather than when their
    /// tokens expire; a requirement it no longer meets is refused as any missing scope is (403
    /// `insufficient_scope`, or the seed's 401 "Not enough permissions"). `None`, the default: the
    /// token's scopes count as they are.
    ///
    /// ```
    /// use scopes_runtime::{AuthError, Claims, Principal};
    ///
    /// #[derive(Clone)]
    /// struct AppState;
    /// struct User { allowed: Vec<String> }
    ///
    /// impl Principal<AppState> for User {
    ///     async fn from_claims(_claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
    ///         Ok(User { allowed: vec!["me".into()] }) // loaded with the user
    ///     }
    ///     fn allowed_scopes(&self) -> Option<&[String]> {
    ///         Some(&self.allowed)
    ///     }
    /// }
    /// ```
    fn allowed_scopes(&self) -> Option<&[String]> {
        None
    }
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
///
/// Sealed: it is implemented only through those two, so whatever a handler receives was loaded from a
/// verified token and checked against every scope of its chain.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[requires]` handler's principal with state `{S}`",
    label = "neither a `Principal<{S}>` nor a guard declared with `#[requires]`",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`"
)]
pub trait Authorize<S>: crate::__private::SealedAuthorize<S> + Sized + Send {
    /// Authorizes the request against `requirement` (the requirements of every layer above this one) with
    /// the state's `authority`, and produces the principal.
    fn authorize(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
        requirement: Requirement<'_>,
    ) -> impl Future<Output = Result<Self, AuthError>> + Send;

    /// Appends this layer's own requirement and those of the layers below it, outermost first: what a
    /// route table and the OpenAPI document report. A principal adds none; a guard adds its own.
    fn requirement_layers(layers: &mut Vec<Alternatives>) {
        let _ = layers;
    }
}

// The authority is handed down rather than taken from the state here, so that whether a type is a
// principal does not depend on the state providing one: a state without an `Authority` is one error, at the
// state, not one at every principal (`RequiresHandler`).
impl<S, P> Authorize<S> for P
where
    P: Principal<S>,
    S: Send + Sync,
{
    async fn authorize(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
        requirement: Requirement<'_>,
    ) -> Result<Self, AuthError> {
        let token = bearer_token(&parts.headers, &authority, &requirement)?;
        let claims = match authority.start_verifying(token) {
            Verifying::Done(verified) => verified,
            Verifying::Fetching(verifying) => verifying.await,
        };
        let claims = claims.map_err(|reason| refused(reason, &requirement))?;
        let principal = P::from_claims(&claims, state).await.map_err(|e| e.challenged_by(&requirement))?;
        let met = match principal.allowed_scopes() {
            Some(allowed) => requirement.is_met_within(&claims.scopes, allowed),
            None => requirement.is_met_by(&claims.scopes),
        };
        if !met {
            return Err(AuthError::InsufficientScope { challenge: Default::default() }.challenged_by(&requirement));
        }
        Ok(principal)
    }
}

/// The request's bearer token; a refusal challenged with `requirement` when it has none or a malformed one.
fn bearer_token<'h>(
    headers: &'h HeaderMap,
    authority: &Authority,
    requirement: &Requirement<'_>,
) -> Result<&'h str, AuthError> {
    match bearer_credentials(headers, authority.request_parsing().is_strict()) {
        Credentials::Missing => Err(AuthError::MissingCredentials),
        Credentials::Malformed(description) => {
            let malformed = AuthError::MalformedCredentials { description, challenge: Default::default() };
            Err(malformed.challenged_by(requirement))
        }
        Credentials::Bearer(token) => Ok(token),
    }
}

/// The answer to a token that failed verification for `reason`: 401 with a challenge, or 503 when the
/// provider's keys are not in hand yet.
fn refused(reason: TokenError, requirement: &Requirement<'_>) -> AuthError {
    match reason {
        TokenError::KeysUnavailable { retry_after } => {
            tracing::warn!(%reason, "bearer token not checked");
            AuthError::ServiceUnavailable { retry_after }
        }
        reason => {
            tracing::debug!(%reason, "bearer token refused");
            AuthError::invalid_token().challenged_by(requirement)
        }
    }
}

/// What the type `#[requires]` declares for each handler says: the principal the handler receives, the
/// requirement (as a `Disjunction`), and that the state provides the [`Authority`] that verifies tokens.
/// Generated code implements it; it is not API.
///
/// The bounds sit on the associated types, not on the impls: when the registry declares the app's state,
/// the generated impl names it, so a parameter type that is no principal, or a state without an
/// `Authority`, is one error on that impl's type (the user's token), and the handler is still an axum
/// handler, with no second error from the router that routes it. Without a declared state the impl is
/// generic over the state, bounded as these associated types are.
pub trait RequiresHandler<S>: crate::__private::Disjunction {
    /// The handler's first parameter, as written.
    type Principal: Authorize<S>;
    /// Where the state's [`Authority`] comes from.
    type Authority: AuthorityIn<S>;

    // The methods are provided, never overridden: written against the associated types, whose bounds
    // hold here whatever the impl's own header says.

    /// Authorizes the request for the handler.
    fn authorize(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
    ) -> impl Future<Output = Result<Self::Principal, AuthError>> + Send {
        Self::Principal::authorize(parts, state, authority, Requirement::new(Self::ALTERNATIVES))
    }

    /// The state's authority.
    fn authority(state: &S) -> Authority {
        Self::Authority::authority_in(state)
    }

    /// The route's access, with every guard layer's requirement.
    fn access() -> Access {
        let mut layers = vec![Self::ALTERNATIVES];
        Self::Principal::requirement_layers(&mut layers);
        Access::Requires(layers)
    }
}

/// The state's [`Authority`], through `FromRef`. Implemented by `Authority` (so that its failure is
/// reported with this message, about the state, rather than as a bare `FromRef` bound).
#[diagnostic::on_unimplemented(
    message = "the state `{S}` provides no `Authority`, which `#[requires]` handlers verify tokens with",
    label = "no `Authority` in `{S}`",
    note = "add a field `authority: scopes_runtime::Authority` to `{S}` and `#[derive(Clone, FromRef)]` on it, or \
            implement `FromRef<{S}>` for `Authority`"
)]
pub trait AuthorityIn<S> {
    /// The authority `state` provides.
    fn authority_in(state: &S) -> Authority;
}

impl<S> AuthorityIn<S> for Authority
where
    Authority: FromRef<S>,
{
    fn authority_in(state: &S) -> Authority {
        Authority::from_ref(state)
    }
}

/// One layer's requirement in disjunctive normal form: any of the alternatives, each all of its scopes.
/// `&[&[]]` (one alternative with no scope) requires nothing.
pub type Alternatives = &'static [&'static [Scope]];

/// The scopes a request must hold: one layer's own requirement, linked to the layers above it. Every
/// layer must be met; a layer is met by any one of its alternatives; a scope is held when the token
/// names it or a scope that implies it.
///
/// Built on the stack as the request passes down the guard chain, so checking it allocates nothing.
///
/// ```
/// use scopes_runtime::{Requirement, Scope};
///
/// const ME: Scope = Scope::new("me");
/// const ITEMS: Scope = Scope::new("items");
/// const ADMIN: Scope = Scope::new("admin");
///
/// // The handler: `items` or `admin`; the guard it builds on: `me`.
/// let handler = Requirement::new(&[&[ITEMS], &[ADMIN]]);
/// let guard = handler.then(&[&[ME]]);
/// assert_eq!(guard.alternatives(), [vec!["items", "me"], vec!["admin", "me"]]);
/// assert!(guard.is_met_by(&["me", "items"]));
/// assert!(guard.is_met_by(&["admin", "me"]));
/// assert!(!guard.is_met_by(&["me"]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    own: Alternatives,
    outer: Option<&'a Requirement<'a>>,
}

impl<'a> Requirement<'a> {
    /// The outermost layer: a handler's own requirement.
    pub const fn new(own: Alternatives) -> Requirement<'static> {
        Requirement { own, outer: None }
    }

    /// The requirement one layer further in: this one and `own`.
    pub fn then(&'a self, own: Alternatives) -> Requirement<'a> {
        Requirement { own, outer: Some(self) }
    }

    /// Whether a token granted `granted` meets every layer.
    pub fn is_met_by<T: AsRef<str>>(&self, granted: &[T]) -> bool {
        self.layers()
            .all(|layer| layer.own.iter().any(|alternative| alternative.iter().all(|scope| scope.is_held_by(granted))))
    }

    /// Whether a token granted `granted`, of a principal still allowed `allowed`, meets every layer: a
    /// scope counts when both hold it ([`Principal::allowed_scopes`]).
    ///
    /// ```
    /// use scopes_runtime::{Requirement, Scope};
    /// const ITEMS: Scope = Scope::new("items");
    /// let requirement = Requirement::new(&[&[ITEMS]]);
    /// assert!(requirement.is_met_within(&["items"], &["me", "items"]));
    /// assert!(!requirement.is_met_within(&["items"], &["me"]));
    /// ```
    pub fn is_met_within<T: AsRef<str>, A: AsRef<str>>(&self, granted: &[T], allowed: &[A]) -> bool {
        self.layers().all(|layer| {
            layer.own.iter().any(|alternative| {
                alternative.iter().all(|scope| scope.is_held_by(granted) && scope.is_held_by(allowed))
            })
        })
    }

    /// The scope sets that would each meet the whole requirement, outermost layer first within each: see
    /// [`alternatives_of`].
    pub fn alternatives(&self) -> Vec<Vec<&'static str>> {
        let mut layers: Vec<Alternatives> = self.layers().map(|layer| layer.own).collect();
        layers.reverse();
        alternatives_of(&layers)
    }

    fn layers(&self) -> impl Iterator<Item = &Requirement<'a>> {
        std::iter::successors(Some(self), |layer| layer.outer)
    }
}

/// The scope sets that each meet every one of `layers` (outermost first): one alternative of each layer,
/// combined, each scope once in first-seen order; repeated sets and sets that contain another are left
/// out. `[[]]` when nothing is required.
///
/// ```
/// use scopes_runtime::{Alternatives, Scope, alternatives_of};
///
/// const ME: Scope = Scope::new("me");
/// const ITEMS: Scope = Scope::new("items");
/// const ADMIN: Scope = Scope::new("admin");
/// const HANDLER: Alternatives = &[&[ITEMS, ME], &[ADMIN]];
/// const GUARD: Alternatives = &[&[ME]];
/// assert_eq!(alternatives_of(&[HANDLER, GUARD]), [vec!["items", "me"], vec!["admin", "me"]]);
/// ```
pub fn alternatives_of(layers: &[Alternatives]) -> Vec<Vec<&'static str>> {
    let mut combined: Vec<Vec<&'static str>> = vec![Vec::new()];
    for layer in layers {
        combined = combined
            .iter()
            .flat_map(|prefix| {
                layer.iter().map(move |alternative| {
                    unique_in_order(prefix.iter().copied().chain(alternative.iter().map(|scope| scope.name)))
                })
            })
            .collect();
    }
    let mut minimal: Vec<Vec<&'static str>> = Vec::new();
    for (index, candidate) in combined.iter().enumerate() {
        let contains = |smaller: &Vec<&str>| smaller.iter().all(|scope| candidate.contains(scope));
        // A set containing another is redundant; of equal sets the first is kept.
        let redundant = combined.iter().enumerate().any(|(other, smaller)| {
            other != index && contains(smaller) && (smaller.len() < candidate.len() || other < index)
        });
        if !redundant {
            minimal.push(candidate.clone());
        }
    }
    minimal
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

    const ME: Scope = Scope::new("me");
    const ITEMS: Scope = Scope::new("items");
    const ADMIN: Scope = Scope { name: "admin", description: "", implies: &["me", "items"], implied_by: &[] };
    const ME_UNDER_ADMIN: Scope = Scope { name: "me", description: "", implies: &[], implied_by: &["admin"] };

    #[test]
    fn alternatives_are_outermost_first_and_deduplicated() {
        let root = Requirement::new(&[&[ITEMS, ME]]);
        let middle = root.then(&[&[ME]]);
        let inner = middle.then(&[&[ADMIN]]);
        assert_eq!(inner.alternatives(), [vec!["items", "me", "admin"]]);
    }

    #[test]
    fn alternatives_multiply_across_layers_and_drop_supersets() {
        let root = Requirement::new(&[&[ITEMS], &[ADMIN], &[ITEMS, ADMIN]]);
        let inner = root.then(&[&[ME], &[ADMIN]]);
        assert_eq!(inner.alternatives(), [vec!["items", "me"], vec!["admin"]]);
    }

    #[test]
    fn empty_requirement_is_met_by_anything() {
        let none = Requirement::new(&[&[]]);
        assert!(none.is_met_by::<&str>(&[]));
        assert_eq!(none.alternatives(), [Vec::<&str>::new()]);
    }

    #[test]
    fn any_alternative_meets_a_layer_but_every_layer_must_be_met() {
        let root = Requirement::new(&[&[ITEMS], &[ADMIN]]);
        let inner = root.then(&[&[ME]]);
        assert!(inner.is_met_by(&["admin", "me"]));
        assert!(inner.is_met_by(&["items", "me"]));
        assert!(!inner.is_met_by(&["admin"]));
        assert!(!inner.is_met_by(&["me"]));
    }

    #[test]
    fn an_implying_scope_holds_the_implied_one() {
        let requirement = Requirement::new(&[&[ME_UNDER_ADMIN]]);
        assert!(requirement.is_met_by(&["admin"]));
        assert!(requirement.is_met_by(&["me"]));
        assert!(!requirement.is_met_by(&["items"]));
    }

    #[test]
    fn within_allowed_scopes_a_scope_counts_only_when_both_hold_it() {
        let requirement = Requirement::new(&[&[ME_UNDER_ADMIN]]);
        // The token's `admin` holds `me`, and so does the account's `me`.
        assert!(requirement.is_met_within(&["admin"], &["me"]));
        // The account lost `me` (and `admin`): the token's `admin` no longer holds it.
        assert!(!requirement.is_met_within(&["admin"], &["items"]));
        // The account's `admin` holds `me`, which the token must still grant.
        assert!(!requirement.is_met_within(&["items"], &["admin"]));
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        let requirement = Requirement::new(&[&[ITEMS]]);
        assert!(!requirement.is_met_by(&["Items"]));
        assert!(!requirement.is_met_by(&["items "]));
        assert!(!requirement.is_met_by(&["item"]));
        assert!(requirement.is_met_by(&["items"]));
    }
}

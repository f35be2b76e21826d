//! What generated code names. Not public API: nothing here is covered by semver.
//!
//! A requirement travels as a type, read at compile time into a constant: `AnyOf<(AllOf<(S0, S1)>,
//! AllOf<(S2,)>)>` reads "S0 and S1, or S2", where each `S` is the marker type `registry!` declares for a
//! scope, carrying the scope's hierarchy. Each handler's own type (`RequiresHandler`) names it.

use std::future::Future;
use std::marker::PhantomData;

use axum::extract::FromRequestParts;
pub use axum::http::request::Parts;
use axum::response::Response;
use futures_util::FutureExt;

pub use scopes_macros::__check_scopes as check_scopes;

use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::enforcement::guard::Guard;
// What generated code names, apart from the root's hot names.
pub use crate::enforcement::guard::{AuthorityIn, Authorize, RequiresHandler, RuledHandler};
pub use crate::enforcement::rule::{Many, One, RuleError, RuleMode};
pub use crate::enforcement::sealing::{
    AllOf, AnyOf, Assured, Conjunction, DeclaredScope, Disjunction, MAX_TERMS, SealedAuthorize,
};
use crate::registry::{Access, Requirement};
pub use crate::registry::{Alternatives, Assurance, DpopMode};
use crate::routing::RouteAccess;

/// What `#[requires]` leaves in place of a handler it reported an error on: an extractor and a response
/// that every router accepts, so that one error is not followed by the router's. The build has already
/// failed; this never serves a request.
pub struct Unusable;

impl<S: Send + Sync> FromRequestParts<S> for Unusable {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Unusable)
    }
}

impl axum::response::IntoResponse for Unusable {
    fn into_response(self) -> Response {
        axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response()
    }
}

impl<S> crate::routing::sealed::Sealed<S> for Unusable {}

impl<S> RouteAccess<S> for Unusable {
    fn access() -> Access {
        Access::Public
    }
}

/// The extractor `#[requires]` puts in place of the handler's first parameter: it authorizes the
/// request against the requirement `R` and hands the principal to the parameter's pattern.
pub struct Authorized<G, R>(pub G, pub PhantomData<R>);

impl<S, G, R> FromRequestParts<S> for Authorized<G, R>
where
    S: Send + Sync,
    R: RequiresHandler<S, Principal = G>,
{
    /// The refusal, answered in the authority's [`ResponseStyle`](crate::ResponseStyle).
    type Rejection = Response;

    // What depends on `R` is compiled once per handler: keep it to reading the constant, and leave the
    // verification to a future shared by all handlers of the principal. That future is mapped, not awaited
    // in an `async` block: the block would hold it twice (as captured, and as awaited), and the handler's
    // future, boxed on every request, would grow past the allocator's fast size classes. The error is
    // axum's `Response`, as `FromRequestParts` rejections are; it is not ours to shrink.
    #[allow(clippy::result_large_err)]
    fn from_request_parts(parts: &mut Parts, state: &S) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        R::authorize(parts, state, R::authority(state)).map(|authorized| match authorized {
            Ok(principal) => Ok(Authorized(principal, PhantomData)),
            // The refusal's style is the authority's: taken again, off the path of accepted requests.
            Err(error) => Err(R::authority(state).refuse_on_route(&error, R::ASSURANCE.dpop)),
        })
    }
}

impl<S, G, R> crate::routing::sealed::Sealed<S> for Authorized<G, R> where R: RequiresHandler<S, Principal = G> {}

impl<S, G, R> RouteAccess<S> for Authorized<G, R>
where
    R: RequiresHandler<S, Principal = G>,
{
    fn access() -> Access {
        R::access()
    }

    fn assurance() -> Assurance {
        R::ASSURANCE
    }

    fn answering_authority(state: &S) -> Option<Authority> {
        Some(R::authority(state))
    }
}

/// The extractor `#[requires]` puts in place of the first parameter of a handler whose requirement names a
/// resource rule: [`Authorized`], then the rule, whose resource it leaves for the handler's `Checked` or
/// `Visible` parameter.
pub struct AuthorizedRuled<G, R>(pub G, pub PhantomData<R>);

impl<S, G, R> FromRequestParts<S> for AuthorizedRuled<G, R>
where
    S: Send + Sync,
    R: RuledHandler<S, Principal = G>,
{
    /// The refusal, answered in the authority's [`ResponseStyle`](crate::ResponseStyle).
    type Rejection = Response;

    #[allow(clippy::result_large_err)]
    fn from_request_parts(parts: &mut Parts, state: &S) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        R::authorize_ruled(parts, state, R::authority(state)).map(|authorized| match authorized {
            Ok(principal) => Ok(AuthorizedRuled(principal, PhantomData)),
            Err(error) => Err(R::authority(state).refuse_on_route(&error, R::ASSURANCE.dpop)),
        })
    }
}

impl<S, G, R> crate::routing::sealed::Sealed<S> for AuthorizedRuled<G, R> where R: RuledHandler<S, Principal = G> {}

impl<S, G, R> RouteAccess<S> for AuthorizedRuled<G, R>
where
    R: RuledHandler<S, Principal = G>,
{
    fn access() -> Access {
        R::ruled_access()
    }

    fn assurance() -> Assurance {
        R::ASSURANCE
    }

    fn answering_authority(state: &S) -> Option<Authority> {
        Some(R::authority(state))
    }
}

/// The body of every generated `Authorize` impl of a guard: authorize the inner layer with this guard's
/// requirement added, then run the guard's own check.
pub async fn authorize_guard<S, G>(
    parts: &mut Parts,
    state: &S,
    authority: Authority,
    requirement: Requirement<'_>,
    own: Alternatives,
) -> Result<G, AuthError>
where
    S: Sync,
    G: Guard<S>,
{
    let inner = G::Inner::authorize(parts, state, authority, requirement.then(own)).await?;
    G::check(inner, state).await
}

/// Evaluated at compile time by `registry!`: `#[requires]` finds the registry at `crate::`, so it must
/// be declared at the crate root.
pub const fn assert_registry_at_crate_root(module_path: &str) {
    let bytes = module_path.as_bytes();
    let mut i = 0;
    while i + 1 < bytes.len() {
        if bytes[i] == b':' && bytes[i + 1] == b':' {
            panic!(
                "`registry!` must be invoked at the crate root (lib.rs or main.rs): `#[requires]` looks for it there"
            );
        }
        i += 1;
    }
}

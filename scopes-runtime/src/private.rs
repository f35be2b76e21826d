//! What generated code names. Not public API: nothing here is covered by semver.
//!
//! A requirement travels as a type, so that handlers with the same requirement share one extractor type
//! (and its compiled code): `AnyOf<(AllOf<(S0, S1)>, AllOf<(S2,)>)>` reads "S0 and S1, or S2", where
//! each `S` is the marker type `registry!` declares for a scope, carrying the scope's hierarchy.

use std::future::Future;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
pub use axum::http::request::Parts;
use axum::response::Response;
use futures_util::FutureExt;

pub use scopes_macros::__check_scopes as check_scopes;

use crate::guard::Alternatives;
use crate::routing::{Access, RouteAccess};
use crate::{AuthError, Authority, Authorize, Guard, Requirement, Scope};

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

/// A declared scope, as the marker type `registry!` generates for it.
pub trait DeclaredScope {
    const SCOPE: Scope;
}

/// What the registry's lookup of an undeclared scope leaves in the type once it has reported the error
/// (`compile_error!` in type position stands for `()`): implemented so the one error is not followed by
/// unrelated ones. The build has already failed; this scope never reaches a running program.
impl DeclaredScope for () {
    const SCOPE: Scope = Scope::new("");
}

/// All of a tuple of declared scopes.
pub struct AllOf<T>(PhantomData<T>);

/// Any of a tuple of [`AllOf`]s: a requirement in disjunctive normal form.
pub struct AnyOf<T>(PhantomData<T>);

pub trait Conjunction {
    const SCOPES: &'static [Scope];
}

/// What `#[requires]` puts in the type of a handler's extractor and a guard's `Authorize` impl.
pub trait Disjunction {
    const ALTERNATIVES: Alternatives;
}

/// `#[requires]` refuses requirements wider than this many alternatives, or scopes in one.
pub const MAX_TERMS: usize = 16;

macro_rules! tuple_impls {
    ($($name:ident)*) => {
        impl<$($name: DeclaredScope),*> Conjunction for AllOf<($($name,)*)> {
            const SCOPES: &'static [Scope] = &[$($name::SCOPE),*];
        }
        impl<$($name: Conjunction),*> Disjunction for AnyOf<($($name,)*)> {
            const ALTERNATIVES: Alternatives = &[$($name::SCOPES),*];
        }
    };
}

for_each_tuple!(tuple_impls; T15 T14 T13 T12 T11 T10 T9 T8 T7 T6 T5 T4 T3 T2 T1 T0);

/// The extractor `#[requires]` puts in place of the handler's first parameter: it authorizes the
/// request against the requirement `R` and hands the principal to the parameter's pattern.
pub struct Authorized<G, R>(pub G, pub PhantomData<R>);

impl<S, G, R> FromRequestParts<S> for Authorized<G, R>
where
    S: Send + Sync,
    G: Authorize<S>,
    R: Disjunction,
    Authority: FromRef<S>,
{
    /// The refusal, answered in the authority's [`ResponseStyle`](crate::ResponseStyle).
    type Rejection = Response;

    // What depends on `R` is compiled once per distinct requirement: keep it to reading the constant, and
    // leave the verification to a future shared by all handlers of the principal. That future is mapped,
    // not awaited in an `async` block: the block would hold it twice (as captured, and as awaited), and
    // the handler's future, boxed on every request, would grow past the allocator's fast size classes.
    // The error is axum's `Response`, as `FromRequestParts` rejections are; it is not ours to shrink.
    #[allow(clippy::result_large_err)]
    fn from_request_parts(parts: &mut Parts, state: &S) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        G::authorize(parts, state, Requirement::new(R::ALTERNATIVES)).map(|authorized| match authorized {
            Ok(principal) => Ok(Authorized(principal, PhantomData)),
            Err(error) => Err(refusal(state, &error)),
        })
    }
}

impl<S, G, R> crate::routing::sealed::Sealed<S> for Authorized<G, R>
where
    G: Authorize<S>,
    R: Disjunction,
{
}

impl<S, G, R> RouteAccess<S> for Authorized<G, R>
where
    G: Authorize<S>,
    R: Disjunction,
{
    fn access() -> Access {
        let mut layers = vec![R::ALTERNATIVES];
        G::requirement_layers(&mut layers);
        Access::Requires(layers)
    }
}

/// A refusal, answered in the style of the state's authority.
fn refusal<S>(state: &S, error: &AuthError) -> Response
where
    Authority: FromRef<S>,
{
    Authority::from_ref(state).refuse(error)
}

/// Seals [`Authorize`]: implemented for every [`Principal`](crate::Principal), and by `#[requires]` for the
/// guards it declares. Naming it from outside generated code is outside the API: a hand-written
/// `Authorize` impl could hand a handler a principal no token vouches for.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot implement `Authorize` by hand: only a principal or a `#[requires]` guard authorizes a request",
    label = "neither a `Principal<{S}>` nor a guard declared with `#[requires]`",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`"
)]
pub trait SealedAuthorize<S> {}

impl<S, P: crate::Principal<S>> SealedAuthorize<S> for P {}

/// The body of every generated `Authorize` impl of a guard: authorize the inner layer with this guard's
/// requirement added, then run the guard's own check.
pub async fn authorize_guard<S, G>(
    parts: &mut Parts,
    state: &S,
    requirement: Requirement<'_>,
    own: Alternatives,
) -> Result<G, AuthError>
where
    S: Sync,
    G: Guard<S>,
{
    let inner = G::Inner::authorize(parts, state, requirement.then(own)).await?;
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

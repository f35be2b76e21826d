//! What generated code names. Not public API: nothing here is covered by semver.

use std::future::Future;
use std::marker::PhantomData;

use axum::extract::{FromRef, FromRequestParts};
pub use axum::http::request::Parts;
use axum::response::Response;

pub use scopes_macros::__check_scopes as check_scopes;

use crate::{AuthError, Authority, Authorize, Guard, Requirement};

/// A handler's own scopes, carried by a marker type `#[requires]` generates next to the handler.
pub trait HandlerRequirement {
    const SCOPES: &'static [&'static str];
}

/// The extractor `#[requires]` puts in place of the handler's first parameter: it authorizes the
/// request against the handler's scopes and hands the principal to the parameter's pattern.
pub struct Authorized<G, R>(pub G, pub PhantomData<R>);

impl<S, G, R> FromRequestParts<S> for Authorized<G, R>
where
    S: Send + Sync,
    G: Authorize<S>,
    R: HandlerRequirement,
    Authority: FromRef<S>,
{
    /// The refusal, answered in the authority's [`ResponseStyle`](crate::ResponseStyle).
    type Rejection = Response;

    // Every handler has its own `R`, so what depends on `R` is compiled once per handler: keep it to
    // reading the scopes, and leave the verification to a future shared by all handlers of the principal.
    fn from_request_parts(parts: &mut Parts, state: &S) -> impl Future<Output = Result<Self, Self::Rejection>> + Send {
        let authorized = authorize_request::<S, G>(parts, state, R::SCOPES);
        async move { authorized.await.map(|principal| Authorized(principal, PhantomData)) }
    }
}

/// Authorizes a request against a handler's own scopes, answering a refusal in the configured style.
async fn authorize_request<S, G>(parts: &mut Parts, state: &S, scopes: &'static [&'static str]) -> Result<G, Response>
where
    S: Send + Sync,
    G: Authorize<S>,
    Authority: FromRef<S>,
{
    match G::authorize(parts, state, Requirement::new(scopes)).await {
        Ok(principal) => Ok(principal),
        Err(error) => Err(Authority::from_ref(state).response_style().render(&error)),
    }
}

/// The body of every generated `Authorize` impl of a guard: authorize the inner layer with this guard's
/// scopes added, then run the guard's own check.
pub async fn authorize_guard<S, G>(
    parts: &mut Parts,
    state: &S,
    requirement: Requirement<'_>,
    own_scopes: &'static [&'static str],
) -> Result<G, AuthError>
where
    S: Sync,
    G: Guard<S>,
{
    let inner = G::Inner::authorize(parts, state, requirement.then(own_scopes)).await?;
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

pub use inventory;

/// One `#[requires]` handler, registered at link time so the OpenAPI document can be given each
/// operation's security without restating it.
pub struct HandlerSecurity {
    /// The handler function's name.
    pub handler: &'static str,
    /// The module it is declared in.
    pub module: &'static str,
    /// The OpenAPI operation id it is documented under: the function name, unless `#[requires]` saw a
    /// `#[utoipa::path(operation_id = "...")]` below it.
    pub operation_id: &'static str,
    /// The handler's effective scopes: its own, then each guard's, outermost first, each once.
    pub scopes: fn() -> Vec<&'static str>,
}

inventory::collect!(HandlerSecurity);

/// The scopes of a guard chain, outermost first. Generated for every guard declared with `#[requires]`.
pub trait GuardChain {
    fn chain(out: &mut Vec<&'static str>);
}

/// Resolves a principal type's chain of scopes without knowing the app's state type: guards contribute
/// theirs through [`GuardChain`], principals none. Generated code calls
/// `(&ChainOf::<T>(PhantomData)).chain_scopes(out)`; method resolution picks the guard impl when it
/// applies and falls back to the principal one (autoref specialization on a concrete type).
pub struct ChainOf<T>(pub PhantomData<T>);

pub trait ChainViaGuard {
    fn chain_scopes(&self, out: &mut Vec<&'static str>);
}

impl<T: GuardChain> ChainViaGuard for ChainOf<T> {
    fn chain_scopes(&self, out: &mut Vec<&'static str>) {
        T::chain(out);
    }
}

pub trait ChainViaPrincipal {
    fn chain_scopes(&self, out: &mut Vec<&'static str>);
}

impl<T> ChainViaPrincipal for &ChainOf<T> {
    fn chain_scopes(&self, _out: &mut Vec<&'static str>) {}
}

/// `own` followed by `chain`, each scope once, in first-seen order: the order enforcement reports.
pub fn effective_scopes(own: &[&'static str], chain: Vec<&'static str>) -> Vec<&'static str> {
    crate::guard::unique_in_order(own.iter().copied().chain(chain))
}

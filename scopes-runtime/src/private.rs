//! What generated code names. Not public API: nothing here is covered by semver.

use std::marker::PhantomData;

use axum::extract::FromRequestParts;
pub use axum::http::request::Parts;

pub use scopes_macros::__check_scopes as check_scopes;

use crate::{AuthError, Authorize, Guard, Requirement};

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
{
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let principal = G::authorize(parts, state, Requirement::new(R::SCOPES)).await?;
        Ok(Authorized(principal, PhantomData))
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

//! The marks a [`SecureRouter`](super::SecureRouter)(super::SecureRouter) reads in a handler's first parameter: the extractor
//! `#[requires]` generates, or [`Public`]; both sealed, so that an app's own extractor cannot claim to
//! protect a route.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::handler::Handler;
use axum::http::request::Parts;

use crate::authority::Authority;
use crate::registry::{Access, Assurance};

/// Seals [`RouteAccess`] and [`ProtectedHandler`]: a route's reported access is a guarantee only if
/// nothing but this crate can claim one.
pub(crate) mod sealed {
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot claim who may call a route: only `#[requires(...)]` and `#[public]` handlers can",
        label = "not a mark `#[requires]` or `#[public]` puts on a handler",
        note = "`RouteAccess` and `ProtectedHandler` are sealed, so a `SecureRouter`'s report is always what is enforced"
    )]
    pub trait Sealed<S> {}

    #[diagnostic::on_unimplemented(
        message = "this handler is neither `#[requires(...)]` nor `#[public]`, so a `SecureRouter` refuses it",
        label = "unprotected handler",
        note = "put `#[requires(...)]` on the handler to guard it, or `#[public]` to serve it to anyone; a route \
                from elsewhere goes in with `SecureRouter::public_route`"
    )]
    pub trait SealedHandler<T, S> {}
}

/// What a handler's first parameter says about who may call it. Implemented by the extractor
/// `#[requires]` generates and by [`Public`], and sealed: an app's own extractor cannot claim to protect a
/// route, so a [`SecureRouter`](super::SecureRouter) never reports as guarded a route that checks nothing.
#[diagnostic::on_unimplemented(
    message = "this handler is neither `#[requires(...)]` nor `#[public]`, so a `SecureRouter` refuses it",
    label = "unprotected handler",
    note = "its first parameter is `{Self}`, not the mark either attribute puts there",
    note = "put `#[requires(...)]` on the handler to guard it, or `#[public]` to serve it to anyone; a route from \
            elsewhere goes in with `SecureRouter::public_route`"
)]
pub trait RouteAccess<S>: sealed::Sealed<S> {
    /// The route's access, with every guard layer's requirement.
    fn access() -> Access;

    /// What the route asks of its token beyond scopes (`#[requires(dpop = ..., acr = ..., max_age = ...)]`).
    fn assurance() -> Assurance {
        Assurance::NONE
    }

    /// The authority whose style the handler's own refusals are answered in: a guarded handler's; none for
    /// a public one (whose state need not hold an authority).
    #[doc(hidden)]
    fn answering_authority(state: &S) -> Option<Authority> {
        let _ = state;
        None
    }
}

/// The handlers a [`SecureRouter`](super::SecureRouter) accepts: axum handlers whose first parameter is [`RouteAccess`]. Sealed.
///
/// The parameters are read from the handler's signature (`FnOnce`), not from axum's `Handler` impl, so
/// that a handler whose first parameter is no mark fails on that mark alone, with this trait's message,
/// rather than on every axum bound its parameters might not meet.
#[diagnostic::on_unimplemented(
    message = "this handler is neither `#[requires(...)]` nor `#[public]`, so a `SecureRouter` refuses it",
    label = "unprotected handler",
    note = "put `#[requires(...)]` on the handler to guard it, or `#[public]` to serve it to anyone; a route from \
            elsewhere goes in with `SecureRouter::public_route`"
)]
pub trait ProtectedHandler<T, S>: Handler<T, S> + sealed::SealedHandler<T, S> {
    /// The handler's access.
    fn access() -> Access;

    /// See [`RouteAccess::assurance`].
    fn assurance() -> Assurance;

    /// See [`RouteAccess::answering_authority`].
    #[doc(hidden)]
    fn answering_authority(state: &S) -> Option<Authority>;
}

macro_rules! protected_handler_impls {
    ($($rest:ident)*) => {
        impl<F, Fut, S, M, First, $($rest,)*> sealed::SealedHandler<(M, First, $($rest,)*), S> for F
        where
            F: FnOnce(First, $($rest,)*) -> Fut,
            First: RouteAccess<S>,
        {
        }

        impl<F, Fut, S, M, First, $($rest,)*> ProtectedHandler<(M, First, $($rest,)*), S> for F
        where
            F: FnOnce(First, $($rest,)*) -> Fut,
            First: RouteAccess<S>,
            F: Handler<(M, First, $($rest,)*), S>,
        {
            fn access() -> Access {
                First::access()
            }

            fn assurance() -> Assurance {
                First::assurance()
            }

            fn answering_authority(state: &S) -> Option<Authority> {
                First::answering_authority(state)
            }
        }
    };
}

// axum's handlers take up to 16 extractors: the access marker and 15 more.
for_each_tuple!(protected_handler_impls; T15 T14 T13 T12 T11 T10 T9 T8 T7 T6 T5 T4 T3 T2 T1);

/// The extractor `#[public]` adds as a handler's first parameter: marks the handler as served to anyone.
/// Extracting it never fails and reads nothing.
///
/// ```
/// use scopes_runtime::{public, routing::{SecureRouter, get}};
///
/// #[public]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// let (router, routes) = SecureRouter::<()>::new().route("/health", get(health)).into_parts();
/// assert_eq!(routes.to_string(), "GET /health  public\n");
/// # let _: axum::Router = router;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Public;

impl<S: Send + Sync> FromRequestParts<S> for Public {
    type Rejection = Infallible;

    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(Public)
    }
}

impl<S> sealed::Sealed<S> for Public {}

impl<S> RouteAccess<S> for Public {
    fn access() -> Access {
        Access::Public
    }
}

//! The handlers of one path, by method, each `#[requires(...)]` or `#[public]`: [`SecureMethodRouter`],
//! started with [`get`], [`post`], [`put`], [`patch`] or [`delete`].

use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::Method;
use axum::response::Response;
use axum::routing::MethodRouter;

use super::marks::ProtectedHandler;
use crate::authority::Authority;
use tokio::task::futures::TaskLocalFuture;

use crate::answering::error::AuthError;
use crate::enforcement::decision;
use crate::observing::route::{self, RouteSlot};
use crate::registry::{Access, Assurance};

/// The handlers of one path, by method, each `#[requires(...)]` or `#[public]`. Start one with [`get`],
/// [`post`], [`put`], [`patch`] or [`delete`], and chain the others.
pub struct SecureMethodRouter<S = ()> {
    pub(super) router: MethodRouter<S>,
    pub(super) accesses: Vec<(String, Access, Assurance)>,
    /// The path template its handlers' decisions are labelled with, once the router knows it.
    pub(super) route: RouteSlot,
}

/// What [`SecureRouter::route`](super::SecureRouter::route) takes: a [`SecureMethodRouter`], made with this
/// module's [`get`], [`post`], [`put`], [`patch`] or [`delete`]. Sealed; it exists so that axum's own
/// method router, given by mistake, is one error naming the import to use.
#[diagnostic::on_unimplemented(
    message = "a `SecureRouter` takes the method routers of `scopes_runtime::routing`, not `{Self}`",
    label = "made with axum's `routing` functions, whose handlers a `SecureRouter` cannot check",
    note = "import `scopes_runtime::routing::{{get, post, put, patch, delete}}` instead of axum's: they take \
            `#[requires(...)]` and `#[public]` handlers; a method router from another crate goes in with \
            `SecureRouter::public_route`"
)]
pub trait IntoSecureMethodRouter<S>: sealed::Sealed {
    #[doc(hidden)]
    fn into_secure_method_router(self) -> SecureMethodRouter<S>;
}

impl<S> IntoSecureMethodRouter<S> for SecureMethodRouter<S> {
    fn into_secure_method_router(self) -> SecureMethodRouter<S> {
        self
    }
}

mod sealed {
    pub trait Sealed {}
    impl<S> Sealed for super::SecureMethodRouter<S> {}
}

macro_rules! method_functions {
    ($($method:ident $constant:ident),*) => {
        $(
            #[doc = concat!("Routes `", stringify!($constant), "` requests to `handler`, which must be `#[requires(...)]` or `#[public]`.")]
            pub fn $method<H, T, S>(handler: H) -> SecureMethodRouter<S>
            where
                H: ProtectedHandler<T, S>,
                T: 'static,
                S: Clone + Send + Sync + 'static,
            {
                SecureMethodRouter { router: MethodRouter::new(), accesses: Vec::new(), route: RouteSlot::default() }
                    .$method(handler)
            }
        )*

        impl<S: Clone + Send + Sync + 'static> SecureMethodRouter<S> {
            $(
                #[doc = concat!("Also routes `", stringify!($constant), "` requests to `handler`, which must be `#[requires(...)]` or `#[public]`.")]
                pub fn $method<H, T>(mut self, handler: H) -> Self
                where
                    H: ProtectedHandler<T, S>,
                    T: 'static,
                {
                    self.accesses.push((Method::$constant.to_string(), H::access(), H::assurance()));
                    let restyling = Restyling { handler, route: self.route.clone(), arguments: PhantomData };
                    self.router = self.router.$method(restyling);
                    self
                }
            )*
        }
    };
}

method_functions!(get GET, post POST, put PUT, patch PATCH, delete DELETE);

/// A guarded handler whose own refusals (an [`AuthError`](crate::AuthError) it returns, or a later
/// extractor's) are answered in its authority's style, as the guard's are, with no layer for the app to
/// add: an `AuthError`'s `IntoResponse` has no state to read the style from, so the response is restyled
/// here, where the state is in hand. A public handler's responses pass through. While the handler runs,
/// its route is the current one, which its guard's decision is labelled with.
struct Restyling<H, T> {
    handler: H,
    route: RouteSlot,
    arguments: PhantomData<fn() -> T>,
}

impl<H: Clone, T> Clone for Restyling<H, T> {
    fn clone(&self) -> Self {
        Restyling { handler: self.handler.clone(), route: self.route.clone(), arguments: PhantomData }
    }
}

impl<H, T, S> Handler<T, S> for Restyling<H, T>
where
    H: ProtectedHandler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    type Future = Restyled<H::Future>;

    fn call(self, request: Request, state: S) -> Self::Future {
        let authority = H::answering_authority(&state);
        let method = request.method().clone();
        Restyled {
            inner: route::scope(self.route, self.handler.call(request, state)),
            authority,
            method,
            access: H::access,
        }
    }
}

pin_project_lite::pin_project! {
    /// The handler's future, its response restyled when it is a refusal.
    struct Restyled<F> {
        #[pin]
        inner: TaskLocalFuture<route::Current, F>,
        authority: Option<Authority>,
        method: Method,
        access: fn() -> Access,
    }
}

impl<F: Future<Output = Response>> Future for Restyled<F> {
    type Output = Response;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Response> {
        let mut this = self.project();
        let response = ready!(this.inner.as_mut().poll(cx));
        // Only a refusal carries an `AuthError` to restyle: an answer that succeeded is not searched for one.
        Poll::Ready(match this.authority.take() {
            Some(authority) if response.status().is_client_error() || response.status().is_server_error() => {
                if let Some(error) = AuthError::returned_in(&response)
                    && let Some(current) = this.inner.take_value()
                    && let Some(subject) = current.take_granted()
                {
                    // The guard granted it; the handler (or an extractor after the guard) refused.
                    decision::record_handler_refusal(
                        &authority,
                        this.method,
                        current.route(),
                        *this.access,
                        subject,
                        error,
                    );
                }
                authority.restyled(response)
            }
            _ => response,
        })
    }
}

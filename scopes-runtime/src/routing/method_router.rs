//! The handlers of one path, by method, each `#[requires(...)]` or `#[public]`: [`SecureMethodRouter`],
//! started with [`get`], [`post`], [`put`], [`patch`] or [`delete`].

use axum::http::Method;
use axum::routing::MethodRouter;

use super::marks::ProtectedHandler;
use crate::registry::Access;

/// The handlers of one path, by method, each `#[requires(...)]` or `#[public]`. Start one with [`get`],
/// [`post`], [`put`], [`patch`] or [`delete`], and chain the others.
pub struct SecureMethodRouter<S = ()> {
    pub(super) router: MethodRouter<S>,
    pub(super) accesses: Vec<(String, Access)>,
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
                SecureMethodRouter { router: MethodRouter::new(), accesses: Vec::new() }.$method(handler)
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
                    self.accesses.push((Method::$constant.to_string(), H::access()));
                    self.router = self.router.$method(handler);
                    self
                }
            )*
        }
    };
}

method_functions!(get GET, post POST, put PUT, patch PATCH, delete DELETE);

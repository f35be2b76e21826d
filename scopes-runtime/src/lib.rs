//! Declarative OAuth2 scope authorization for [axum].
//!
//! Declare the scopes once with [`registry!`]; put [`#[requires(scopes = [...])]`](requires) on a handler;
//! the generated extractor reads the bearer token, verifies it, checks the scopes of the handler and of
//! every [`Guard`] it builds on, and hands the handler the authorized principal. A scope that is not
//! declared is a compile error pointing at the string. Requirements can be expressions
//! (`any("items:read", "admin")`), the registry can declare that one scope implies others, and a
//! [`routing::SecureRouter`] refuses, at compile time, any handler that is neither `#[requires]` nor
//! [`#[public]`](public), and reports who may call each route.
//!
//! ```
//! use axum::{Json, Router, extract::FromRef, routing::get};
//! use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
//!
//! scopes_runtime::registry! {
//!     scheme = "OAuth2PasswordBearer",
//!     token_url = "token",
//!     scopes = {
//!         "me" => "Read information about the current user.",
//!         "items" => "Read items.",
//!     },
//! }
//!
//! #[derive(Clone, FromRef)]
//! struct AppState { authority: Authority }
//!
//! struct User { name: String }
//!
//! impl Principal<AppState> for User {
//!     async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
//!         Ok(User { name: claims.sub.clone() })
//!     }
//! }
//!
//! #[requires(scopes = ["me", "items"])]
//! async fn read_own_items(user: User) -> Json<Vec<String>> {
//!     Json(vec![format!("item of {}", user.name)])
//! }
//!
//! # fn main() {
//! let state = AppState { authority: Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap() };
//! let app: Router = Router::new().route("/items", get(read_own_items)).with_state(state);
//! # }
//! ```

#![warn(missing_docs)]

extern crate self as scopes_runtime;

/// Invokes `$impls!` once for each tail of the identifier list, the whole list down to none: trait impls
/// for every tuple length the list allows (declared before the modules that use it).
macro_rules! for_each_tuple {
    ($impls:ident; $first:ident $($rest:ident)*) => {
        $impls!($first $($rest)*);
        for_each_tuple!($impls; $($rest)*);
    };
    ($impls:ident;) => {
        $impls!();
    };
}

// The tree reads as the design, bottom up: the declared scopes (`registry`), key material (`keys`), what is
// reloaded from a store (`reloading`); a request's token verified (`verifying`), refusals answered
// (`answering`), the `authority` joining the two; principals and guards enforcing requirements
// (`enforcement`), routers that know them (`routing`), the API described (`describing`); accounts stored
// (`store`) and tokens issued (`issuing`); beside them all, what an operator sees (`observing`) and whether
// the app can serve (`health`). No module imports one above it: scripts/check_layers.py.
pub mod answering;
pub mod authority;
pub mod describing;
pub mod enforcement;
pub mod health;
pub mod issuing;
pub mod keys;
pub mod observing;
#[cfg(feature = "redis")]
mod redis_link;
pub mod registry;
mod reloading;
pub mod routing;
pub mod store;
#[cfg(feature = "testing")]
pub mod testing;
pub mod verifying;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

// The root holds the names most apps use; everything else lives in its module.
pub use answering::{AuthError, ResponseStyle};
pub use authority::Authority;
#[cfg(feature = "openapi")]
pub use describing::openapi;
pub use enforcement::{Guard, Principal};
pub use issuing::PasswordRequestForm;
#[cfg(feature = "issuer")]
pub use issuing::TokenEndpoint;
pub use keys::KeySet;
pub use registry::{Registry, Requirement, Scope};
#[cfg(feature = "sql")]
pub use store::SqlStore;
pub use store::{Account, AccountStore};
pub use verifying::{Claims, Provider, ScopeClaim, TokenError};

/// Requires a verified bearer token, and the listed scopes, before an axum handler runs.
///
/// # On a handler
///
/// `#[requires(scopes = ["me", "items"])]` on an `async fn`: the generated extractor reads the
/// `Authorization: Bearer` header, verifies the token with the state's [`Authority`], loads the principal
/// and checks the scopes before the body runs. The handler's **first parameter** receives the principal:
/// its type is a [`Principal`] (your user type) or a [`Guard`], and its pattern is kept as written. The
/// other parameters are ordinary extractors; name, visibility and return type are unchanged, so the
/// handler goes into a `Router` with `get(handler)` as usual.
///
/// `#[requires]`, `#[requires()]` and `#[requires(scopes = [])]` mean "authenticated, no scope".
/// Every scope must be declared in the crate's [`registry!`]; an undeclared one is a compile error on the
/// string.
///
/// ```
/// use axum::{Router, extract::FromRef, routing::get};
/// use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "items" => "Read items." },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User { name: String }
///
/// impl Principal<AppState> for User {
///     async fn from_claims(claims: &Claims, _: &AppState) -> Result<Self, AuthError> {
///         Ok(User { name: claims.sub.clone() })
///     }
/// }
///
/// #[requires(scopes = ["items"])]
/// async fn items(user: User) -> String {
///     format!("items of {}", user.name)
/// }
///
/// #[requires]
/// async fn status(_: User) -> &'static str {
///     "ok"
/// }
///
/// # fn main() {
/// let app: Router<AppState> = Router::new().route("/items", get(items)).route("/status", get(status));
/// # }
/// ```
///
/// # Requirement expressions
///
/// Beside or instead of `scopes = [...]`, `any(...)` and `all(...)`, nested freely, say what else is enough;
/// the top-level arguments must all hold. The expression is brought to an OR of ANDs at compile time; a
/// refusal names every scope set that would have been enough, and the OpenAPI document lists one security
/// requirement per set. A scope also holds when the token carries a scope that implies it (see
/// [`registry!`]).
///
/// ```
/// use axum::extract::FromRef;
/// use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = {
///         "me" => "Read information about the current user.",
///         "items:read" => "Read items.",
///         "items:write" => "Change items." implies ["items:read"],
///         "admin" => "Administer everything." implies ["me", "items:write"],
///     },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User;
/// impl Principal<AppState> for User {
///     async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> { Ok(User) }
/// }
///
/// #[requires(any("items:read", "admin"))]
/// async fn read_items(_user: User) {}
///
/// #[requires(scopes = ["me"], any("items:write", all("items:read", "admin")))]
/// async fn audit_items(_user: User) {}
/// # fn main() {}
/// ```
///
/// # On a guard
///
/// On an `impl Guard<State> for T` block, `#[requires(scopes = [...])]` declares the guard's own scopes;
/// a handler taking `T` requires its own scopes and the guard's, outermost first. See [`Guard`].
///
/// # Mistakes
///
/// Each is a compile error at the offending token: a handler that is not `async` or has no parameter, an
/// unknown or repeated argument or function, an empty `any()` or `all()`, an expression wider than 16
/// alternatives of 16 scopes, a scope that is not a string literal, empty, listed twice, outside RFC
/// 6749's scope-token characters, or not declared in the registry (with a "did you mean" for near misses).
///
/// # A renamed dependency
///
/// Generated code names the runtime `::scopes_runtime`. An app that renamed the dependency says where it
/// is with `crate = path` (or `crate = "path"`), as serde's `#[serde(crate = "...")]`, on `#[requires]`,
/// [`macro@public`] and [`registry!`] alike: `#[my_scopes::requires(crate = my_scopes, scopes = ["me"])]`.
/// `tests/renamed` is such an app.
pub use scopes_macros::requires;

/// Marks an axum handler as served to anyone: what a [`SecureRouter`](routing::SecureRouter) demands of
/// every handler that is not `#[requires(...)]`.
///
/// It adds a first parameter of the zero-sized extractor [`routing::Public`], which reads nothing and
/// never fails; the router sees the mark in the handler's type. It takes no arguments (but
/// `crate = path` for a renamed dependency, see [`macro@requires`]), goes on an `async fn`, and cannot be
/// combined with `#[requires]`.
///
/// ```
/// use scopes_runtime::public;
/// use scopes_runtime::routing::{SecureRouter, get};
///
/// #[public]
/// async fn health() -> &'static str {
///     "ok"
/// }
///
/// let (router, routes) = SecureRouter::<()>::new().route("/health", get(health)).into_parts();
/// assert_eq!(routes.routes()[0].access, scopes_runtime::routing::Access::Public);
/// # let _: axum::Router = router;
/// ```
pub use scopes_macros::public;

/// Declares the application's security scheme and its scopes, once, at the crate root.
///
/// Defines `SCOPE_REGISTRY` (a [`Registry`]) and the hidden macro through which [`macro@requires`] checks
/// scope names at compile time. Scope names must be RFC 6749 scope tokens (printable ASCII without
/// spaces, `"` or `\`) and unique; `scheme` is required; `crate = path` names a renamed runtime dependency
/// (see [`macro@requires`]).
///
/// `token_url` is where the app's own token endpoint is served, which the OpenAPI document's password flow
/// points at. With it, `SCOPE_REGISTRY` is a [`registry::IssuingRegistry`], which a
/// [`TokenEndpoint`] needs; an API that only verifies tokens issued elsewhere (issuer
/// mode) leaves it out, and issuing tokens without it is a compile error saying to add it.
///
/// A scope may imply others (`"admin" => "..." implies ["me", "items"]`): a token holding it holds them
/// too, transitively. An implication of an undeclared scope, of itself, or one closing a cycle is a compile
/// error; OpenAPI descriptions say what each scope implies.
///
/// `state = AppState` (optional) declares the state every `#[requires]` handler of the crate is served
/// with. Each handler is then checked against it where it is declared: a first parameter that is not a
/// principal is an error on that parameter's type, and a state that provides no [`Authority`] one error
/// on the state here, rather than an unsatisfied `Handler` bound at the router. Leave it out when one
/// crate's handlers serve several states.
///
/// ```
/// use axum::extract::FromRef;
/// use scopes_runtime::Authority;
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
///
/// scopes_runtime::registry! {
///     state = AppState,
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = {
///         "me" => "Read information about the current user.",
///         "items" => "Read items.",
///     },
/// }
///
/// # fn main() {
/// let names: Vec<_> = SCOPE_REGISTRY.scopes().iter().map(|scope| scope.name).collect();
/// assert_eq!(names, ["me", "items"]);
/// # }
/// ```
pub use scopes_macros::registry;

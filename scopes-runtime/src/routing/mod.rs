//! Secure-by-default routing: a router on which every route is either guarded by `#[requires]` or
//! explicitly public, checked at compile time, and which knows each route's requirement.
//!
//! [`SecureRouter`] takes handlers through [`get`], [`post`] and the other method functions, which accept
//! a handler only when its first parameter says how it is protected: the extractor `#[requires]`
//! generates, or the [`Public`] marker `#[public]` adds. Anything else fails to compile, naming the
//! handler. What the router collects ([`RouteTable`]) is the authorization report: every route with its
//! method, path and effective requirement, for people (its `Display`), tests, and the OpenAPI document.

mod marks;
mod method_router;
mod table;

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::response::IntoResponse;
use axum::routing::MethodRouter;
use tower_layer::Layer;
use tower_service::Service;

pub(crate) use marks::sealed;
pub use marks::{ProtectedHandler, Public, RouteAccess};
pub use method_router::{IntoSecureMethodRouter, SecureMethodRouter, delete, get, patch, post, put};
pub use table::{FALLBACK, MERGED, Route, RouteTable};

use crate::observing::RouteKeys;
use crate::observing::route::RouteSlot;
pub use crate::registry::Access;

/// A router on which no route is unprotected by accident: every handler is `#[requires(...)]` or
/// `#[public]`, or the compilation fails.
///
/// Build it like an axum `Router`, then take the axum router and the [`RouteTable`] apart with
/// [`into_parts`](Self::into_parts): layers, fallbacks and state go on the axum router as usual.
///
/// ```
/// use axum::extract::FromRef;
/// use scopes_runtime::routing::{SecureRouter, get};
/// use scopes_runtime::{AuthError, Authority, Claims, Principal, public, requires};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "items" => "Read items.", "admin" => "Administer the API." },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User;
/// impl Principal<AppState> for User {
///     async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> { Ok(User) }
/// }
///
/// #[requires(any("items", "admin"))]
/// async fn items(_: User) -> &'static str { "items" }
///
/// #[public]
/// async fn health() -> &'static str { "ok" }
///
/// # fn main() {
/// let (router, routes) = SecureRouter::<AppState>::new()
///     .route("/items", get(items))
///     .route("/health", get(health))
///     .into_parts();
/// assert_eq!(routes.to_string(), "GET /items   items OR admin\nGET /health  public\n");
/// # let _: axum::Router<AppState> = router;
/// # }
/// ```
///
/// A handler with neither attribute does not compile:
///
/// ```compile_fail
/// use scopes_runtime::routing::{SecureRouter, get};
///
/// async fn forgotten() -> &'static str { "secret" }
///
/// let _ = SecureRouter::<()>::new().route("/forgotten", get(forgotten));
/// ```
pub struct SecureRouter<S = ()> {
    router: Router<S>,
    table: RouteTable,
    /// Each route's path so far, and where its whole path is written for its decisions' labels.
    labels: Vec<(String, RouteSlot)>,
}

impl<S: Clone + Send + Sync + 'static> Default for SecureRouter<S> {
    fn default() -> Self {
        Self::new()
    }
}

impl<S: Clone + Send + Sync + 'static> SecureRouter<S> {
    /// An empty router.
    pub fn new() -> Self {
        SecureRouter { router: Router::new(), table: RouteTable::default(), labels: Vec::new() }
    }

    /// Serves `methods` at `path` (axum's path syntax, e.g. `/users/{id}`).
    ///
    /// # Panics
    /// As [`Router::route`] does: on an invalid path, or a path routed twice. (A handler whose resource
    /// rule reads a parameter the path lacks is refused by [`into_parts`](Self::into_parts), once the
    /// path is whole.)
    pub fn route(mut self, path: &str, methods: impl IntoSecureMethodRouter<S>) -> Self {
        let methods = methods.into_secure_method_router();
        for (method, access, assurance) in methods.accesses {
            self.table.routes.push(Route { method, path: path.to_owned(), access, assurance });
        }
        self.labels.push((path.to_owned(), methods.route));
        self.router = self.router.route(path, methods.router);
        self
    }

    /// Serves a route the caller vouches is public, without looking at its handlers: for routers from
    /// other crates (a documentation UI, say). It is reported as public under the method `*`.
    pub fn public_route(mut self, path: &str, methods: MethodRouter<S>) -> Self {
        self.table.routes.push(Route::public("*", path));
        self.router = self.router.route(path, methods);
        self
    }

    /// Merges a plain axum `router` the caller vouches is public, without looking at its handlers: a
    /// router from another crate, such as utoipa-swagger-ui's `SwaggerUi` (for which
    /// [`openapi::SwaggerUi`](crate::openapi::SwaggerUi), with the `swagger-ui` feature, reports each route
    /// instead). Its routes cannot be read from it, so the report has one line for it: `*` at
    /// [`MERGED`].
    ///
    /// ```
    /// use scopes_runtime::routing::SecureRouter;
    ///
    /// let elsewhere: axum::Router = axum::Router::new().route("/version", axum::routing::get(|| async { "1.0" }));
    /// let app = SecureRouter::<()>::new().public_merge(elsewhere);
    /// assert_eq!(app.table().to_string(), "* (merged router)  public\n");
    /// ```
    ///
    /// # Panics
    /// As [`Router::merge`] does: on a path both routers serve.
    pub fn public_merge(self, router: impl Into<Router<S>>) -> Self {
        self.public_merge_reported(router, vec![Route::public("*", MERGED)])
    }

    /// Merges `router`, reported as `routes`: for the crate's own integrations, which know what they serve.
    pub(crate) fn public_merge_reported(mut self, router: impl Into<Router<S>>, routes: Vec<Route>) -> Self {
        self.table.routes.extend(routes);
        self.router = self.router.merge(router);
        self
    }

    /// Serves a plain axum `router` the caller vouches is public under `prefix` (axum's [`Router::nest`]),
    /// without looking at its handlers. Reported as `*` at `prefix/{*rest}`, as
    /// [`public_nest_service`](Self::public_nest_service) is.
    ///
    /// ```
    /// use scopes_runtime::routing::SecureRouter;
    ///
    /// let elsewhere: axum::Router = axum::Router::new().route("/version", axum::routing::get(|| async { "1.0" }));
    /// let app = SecureRouter::<()>::new().public_nest("/meta", elsewhere);
    /// assert_eq!(app.table().to_string(), "* /meta/{*rest}  public\n");
    /// ```
    ///
    /// # Panics
    /// As [`Router::nest`] does.
    pub fn public_nest(mut self, prefix: &str, router: impl Into<Router<S>>) -> Self {
        self.table.routes.push(Route::public("*", &everything_under(prefix)));
        self.router = self.router.nest(prefix, router.into());
        self
    }

    /// Serves `router`'s routes under `prefix` (axum's [`Router::nest`]); the route table reports them
    /// with their full paths, so an OpenAPI document nested the same way (utoipa's `OpenApi::nest`) links.
    ///
    /// ```
    /// use scopes_runtime::{public, routing::{SecureRouter, get}};
    ///
    /// #[public]
    /// async fn health() -> &'static str { "ok" }
    ///
    /// let api = SecureRouter::<()>::new().route("/health", get(health)).route("/", get(health));
    /// let app = SecureRouter::new().nest("/api/v1", api);
    /// assert_eq!(app.table().to_string(), "GET /api/v1/health  public\nGET /api/v1         public\n");
    /// ```
    ///
    /// # Panics
    /// As [`Router::nest`] does: when `prefix` is empty or `/` (use [`merge`](Self::merge)), or invalid.
    pub fn nest(mut self, prefix: &str, router: SecureRouter<S>) -> Self {
        let (inner, table, labels) = router.split();
        let prefix_path = prefix.trim_end_matches('/');
        let nested = |path: String| match path.as_str() {
            "/" => prefix_path.to_owned(),
            FALLBACK => path,
            // A merged plain router, nested, serves what it serves under the prefix.
            MERGED => everything_under(prefix_path),
            path => format!("{prefix_path}{path}"),
        };
        self.table.routes.extend(table.routes.into_iter().map(|route| Route { path: nested(route.path), ..route }));
        self.labels.extend(labels.into_iter().map(|(path, slot)| (nested(path), slot)));
        self.router = self.router.nest(prefix, inner);
        self
    }

    /// Serves `other`'s routes beside these (axum's [`Router::merge`]); the table reports both. `other` may
    /// be anything that makes a secure router, such as [`openapi::SwaggerUi`](crate::openapi::SwaggerUi)
    /// (with the `swagger-ui` feature).
    ///
    /// # Panics
    /// As [`Router::merge`] does: when both routers route the same path and method, or both have a
    /// fallback.
    pub fn merge(mut self, other: impl Into<SecureRouter<S>>) -> Self {
        let (router, table, labels) = other.into().split();
        self.table = std::mem::take(&mut self.table).merge(table);
        self.labels.extend(labels);
        self.router = self.router.merge(router);
        self
    }

    /// Wraps every route added so far, and the fallback, in `layer` (axum's [`Router::layer`]): for
    /// tracing, timeouts, compression. Who may call each route is unchanged: the guard runs inside.
    ///
    /// ```
    /// use axum::http::{HeaderName, HeaderValue};
    /// use scopes_runtime::{public, routing::{SecureRouter, get}};
    /// use tower_http::set_header::SetResponseHeaderLayer;
    ///
    /// #[public]
    /// async fn health() -> &'static str { "ok" }
    ///
    /// let tagged = SetResponseHeaderLayer::overriding(HeaderName::from_static("x-api"), HeaderValue::from_static("v1"));
    /// let app = SecureRouter::<()>::new().route("/health", get(health)).layer(tagged);
    /// assert_eq!(app.table().routes().len(), 1);
    /// ```
    pub fn layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    /// Wraps the routes added so far in `layer`, only when a route matches (axum's
    /// [`Router::route_layer`]): unmatched requests still reach the fallback.
    pub fn route_layer<L>(mut self, layer: L) -> Self
    where
        L: Layer<axum::routing::Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.route_layer(layer);
        self
    }

    /// Answers every request no route matches with `handler`, which must be `#[requires(...)]` or
    /// `#[public]` like any other; the table reports it as method `*` at path `(fallback)`.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use scopes_runtime::{public, routing::SecureRouter};
    ///
    /// #[public]
    /// async fn not_found() -> (StatusCode, &'static str) { (StatusCode::NOT_FOUND, "no such page") }
    ///
    /// let app = SecureRouter::<()>::new().fallback(not_found);
    /// assert_eq!(app.table().to_string(), "* (fallback)  public\n");
    /// ```
    pub fn fallback<H, T>(mut self, handler: H) -> Self
    where
        H: ProtectedHandler<T, S>,
        T: 'static,
    {
        let (access, assurance) = (H::access(), H::assurance());
        self.table.routes.push(Route { method: "*".to_owned(), path: FALLBACK.to_owned(), access, assurance });
        self.router = self.router.fallback(handler);
        self
    }

    /// Serves `service` at `path` for every method, entered explicitly as public: a service has no
    /// handler signature to check. Reported under the method `*`.
    ///
    /// # Panics
    /// As [`Router::route_service`] does.
    pub fn public_route_service<T>(mut self, path: &str, service: T) -> Self
    where
        T: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        T::Response: IntoResponse,
        T::Future: Send + 'static,
    {
        self.table.routes.push(Route::public("*", path));
        self.router = self.router.route_service(path, service);
        self
    }

    /// Serves `service` at `prefix` and everything under it (e.g. tower-http's `ServeDir`, or a
    /// documentation UI), entered explicitly as public. Reported as `*` at `prefix/{*rest}`.
    ///
    /// ```
    /// use scopes_runtime::routing::SecureRouter;
    ///
    /// let assets = tower::service_fn(|_request: axum::extract::Request| async {
    ///     Ok::<_, std::convert::Infallible>("an asset")
    /// });
    /// let app = SecureRouter::<()>::new().public_nest_service("/assets", assets);
    /// assert_eq!(app.table().to_string(), "* /assets/{*rest}  public\n");
    /// ```
    ///
    /// # Panics
    /// As [`Router::nest_service`] does.
    pub fn public_nest_service<T>(mut self, prefix: &str, service: T) -> Self
    where
        T: Service<Request, Error = Infallible> + Clone + Send + Sync + 'static,
        T::Response: IntoResponse,
        T::Future: Send + 'static,
    {
        self.table.routes.push(Route::public("*", &everything_under(prefix)));
        self.router = self.router.nest_service(prefix, service);
        self
    }

    /// Provides the state (axum's [`Router::with_state`]): a router needing none is left, to nest or merge
    /// into one of another state, or to serve.
    pub fn with_state<S2>(self, state: S) -> SecureRouter<S2>
    where
        S2: Clone + Send + Sync + 'static,
    {
        SecureRouter { router: self.router.with_state(state), table: self.table, labels: self.labels }
    }

    /// The routes so far and who may call them.
    pub fn table(&self) -> &RouteTable {
        &self.table
    }

    /// The axum router, and the report of its routes.
    ///
    /// # Panics
    /// When a handler's resource [`Rule`](crate::enforcement::Rule) reads a path parameter its route does
    /// not have (one of its [`PATH_PARAMS`](crate::enforcement::Rule::PATH_PARAMS)), which no request could
    /// ever name: a mistake in the app's routes, found when it builds them. Checked here, on the whole
    /// paths, so that a parameter in a [`nest`](Self::nest) prefix counts.
    pub fn into_parts(self) -> (Router<S>, RouteTable) {
        for route in &self.table.routes {
            let Some(rule) = route.access.rule() else { continue };
            if let Some(param) = rule.path_params.iter().find(|param| !route.path.contains(&format!("{{{param}}}"))) {
                panic!(
                    "{} {}: its rule `{}` reads the path parameter `{param}`, which this path does not have: route \
                     it at a path with `{{{param}}}`, or name a rule for this path",
                    route.method, route.path, rule.name
                );
            }
        }
        let (router, table, labels) = self.split();
        for (path, slot) in labels {
            // A route made whole twice (its router's parts taken again) keeps its first path.
            let _ = slot.set(RouteKeys::new(&path));
        }
        (router, table)
    }

    /// The parts, unchecked: for a router nested or merged into another, whose paths are not whole yet.
    fn split(self) -> (Router<S>, RouteTable, Vec<(String, RouteSlot)>) {
        (self.router, self.table, self.labels)
    }
}

/// How the report names every path under `prefix`: `prefix/{*rest}`.
fn everything_under(prefix: &str) -> String {
    format!("{}/{{*rest}}", prefix.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::Scope;

    const READ: Scope =
        Scope { name: "notes:read", description: "", implies: &[], implied_by: &["notes:write", "admin"] };
    const WRITE: Scope =
        Scope { name: "notes:write", description: "", implies: &["notes:read"], implied_by: &["admin"] };
    const ADMIN: Scope =
        Scope { name: "admin", description: "", implies: &["notes:write", "notes:read"], implied_by: &[] };
    const OTHER: Scope = Scope::new("other");

    #[test]
    fn redundant_alternatives_and_scopes_are_noted() {
        let any = Access::Requires(vec![&[&[WRITE], &[ADMIN]]]);
        assert_eq!(any.redundancies(), ["`admin` adds nothing: it implies `notes:write`, already enough"]);
        let all = Access::Requires(vec![&[&[READ, WRITE]]]);
        assert_eq!(all.redundancies(), ["`notes:read` adds nothing: `notes:write` implies it"]);
        let set = Access::Requires(vec![&[&[READ], &[ADMIN, OTHER]]]);
        assert_eq!(set.redundancies(), ["`admin other` adds nothing: it implies `notes:read`, already enough"]);
    }

    #[test]
    fn independent_requirements_have_no_notes() {
        assert!(Access::Public.redundancies().is_empty());
        assert!(Access::Requires(vec![&[&[READ], &[OTHER]]]).redundancies().is_empty());
        assert!(Access::Requires(vec![&[&[]]]).redundancies().is_empty());
        // Across layers (a handler's `admin` over a guard's `notes:read`) is the guard chain's shape, not noted.
        assert!(Access::Requires(vec![&[&[ADMIN]], &[&[READ]]]).redundancies().is_empty());
    }
}

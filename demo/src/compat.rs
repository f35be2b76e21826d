//! What FastAPI (Starlette) answers around an app's routes, so the demo matches the seed on the wire:
//!
//! - a path that matches no route, but would with its trailing slash added or removed, is redirected
//!   there with 307 and an absolute `Location` (clients keep the method, body and `Authorization`);
//! - any other unknown path is 404 `{"detail":"Not Found"}`;
//! - a known path with a method it does not serve is 405 `{"detail":"Method Not Allowed"}` with `Allow`
//!   listing exactly the declared methods (FastAPI does not answer `HEAD` for a `GET` route).

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::Request;
use axum::handler::Handler;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodFilter, MethodRouter};
use axum::{Json, Router};
use serde_json::json;

/// Collects routes, then builds a [`Router`] with FastAPI's redirect, 404 and 405 behaviour.
pub struct Routes<S> {
    paths: BTreeMap<&'static str, (MethodRouter<S>, Vec<Method>)>,
}

impl<S: Clone + Send + Sync + 'static> Default for Routes<S> {
    fn default() -> Self {
        Routes { paths: BTreeMap::new() }
    }
}

impl<S: Clone + Send + Sync + 'static> Routes<S> {
    pub fn new() -> Self {
        Self::default()
    }

    /// Serves `method` on `path` with `handler`.
    ///
    /// # Panics
    /// When `method` is not one axum can route (an extension method) or is given twice for `path`:
    /// both are mistakes in the app's route table, found at start-up.
    pub fn route<H, T>(mut self, path: &'static str, method: Method, handler: H) -> Self
    where
        H: Handler<T, S>,
        T: 'static,
    {
        let filter = MethodFilter::try_from(method.clone()).expect("a standard HTTP method");
        let (router, methods) = self.paths.entry(path).or_insert_with(|| (MethodRouter::new(), Vec::new()));
        *router = std::mem::take(router).on(filter, handler);
        methods.push(method);
        self
    }

    pub fn into_router(self) -> Router<S> {
        let known_paths: Arc<Vec<&'static str>> = Arc::new(self.paths.keys().copied().collect());
        let mut router = Router::new();
        for (path, (mut method_router, methods)) in self.paths {
            let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
            if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
                // axum answers HEAD from the GET handler; FastAPI does not.
                let allow = allow.clone();
                method_router = method_router.head(move || async move { method_not_allowed(&allow) });
            }
            method_router = method_router.fallback(move || async move { method_not_allowed(&allow) });
            router = router.route(path, method_router);
        }
        router.fallback(move |request: Request| async move { redirect_or_not_found(&known_paths, &request) })
    }
}

fn method_not_allowed(allow: &str) -> Response {
    let mut response =
        (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "detail": "Method Not Allowed" }))).into_response();
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

fn redirect_or_not_found(known_paths: &[&str], request: &Request) -> Response {
    let path = request.uri().path();
    let toggled = match path.strip_suffix('/') {
        _ if path == "/" => None,
        Some(without) => Some(without.to_owned()),
        None => Some(format!("{path}/")),
    };
    match toggled.filter(|t| known_paths.contains(&t.as_str())) {
        Some(target) => redirect(request, &target),
        None => (StatusCode::NOT_FOUND, Json(json!({ "detail": "Not Found" }))).into_response(),
    }
}

/// Starlette's redirect: the same URL with the other path, absolute when the request named its host.
fn redirect(request: &Request, path: &str) -> Response {
    let query = request.uri().query().map(|q| format!("?{q}")).unwrap_or_default();
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| request.headers().get(header::HOST).and_then(|h| h.to_str().ok()).map(str::to_owned));
    let location = match host {
        Some(host) => format!("http://{host}{path}{query}"),
        None => format!("{path}{query}"),
    };
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::TEMPORARY_REDIRECT, [(header::LOCATION, location)]).into_response(),
        // A Host header that cannot be echoed back: answer as if the path were unknown.
        Err(_) => (StatusCode::NOT_FOUND, Json(json!({ "detail": "Not Found" }))).into_response(),
    }
}

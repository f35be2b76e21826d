//! What FastAPI (Starlette) answers around an app's routes, so the demo matches the seed on the wire:
//!
//! - a path that matches no route, but would with its trailing slash added or removed, is redirected
//!   there with 307 and an absolute `Location` (clients keep the method, body and `Authorization`);
//! - any other unknown path is 404 `{"detail":"Not Found"}`;
//! - a known path with a method it does not serve is 405 `{"detail":"Method Not Allowed"}` with `Allow`
//!   listing exactly the documented methods (FastAPI does not answer `HEAD` for a `GET` route).
//!
//! The routes are read from the OpenAPI document, where each path and method is declared once.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::PathItem;

/// The documented routes, and the paths left to the router as they are (Swagger UI's pages).
#[derive(Debug, Clone)]
pub struct FastApiCompat {
    routes: Arc<Vec<(String, Vec<Method>)>>,
    passthrough: Arc<Vec<String>>,
}

impl FastApiCompat {
    /// The routes of `document`; requests under `passthrough` prefixes go straight to the router.
    pub fn from_document(document: &OpenApi, passthrough: &[&str]) -> Self {
        let routes = document.paths.paths.iter().map(|(path, item)| (path.clone(), methods(item))).collect();
        FastApiCompat {
            routes: Arc::new(routes),
            passthrough: Arc::new(passthrough.iter().map(|p| (*p).to_owned()).collect()),
        }
    }

    /// `router`, answering unknown paths and methods as FastAPI does.
    pub fn wrap(self, router: Router) -> Router {
        router.layer(middleware::from_fn_with_state(self, answer_like_fastapi))
    }

    fn methods_for(&self, path: &str) -> Option<&[Method]> {
        self.routes.iter().find(|(template, _)| matches_template(template, path)).map(|(_, methods)| methods.as_slice())
    }
}

fn methods(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, item.get.is_some()),
        (Method::PUT, item.put.is_some()),
        (Method::POST, item.post.is_some()),
        (Method::DELETE, item.delete.is_some()),
        (Method::OPTIONS, item.options.is_some()),
        (Method::HEAD, item.head.is_some()),
        (Method::PATCH, item.patch.is_some()),
        (Method::TRACE, item.trace.is_some()),
    ]
    .into_iter()
    .filter_map(|(method, present)| present.then_some(method))
    .collect()
}

/// Whether `path` fits an OpenAPI path template such as `/items/{id}`.
fn matches_template(template: &str, path: &str) -> bool {
    let (mut template, mut path) = (template.split('/'), path.split('/'));
    loop {
        match (template.next(), path.next()) {
            (None, None) => return true,
            (Some(t), Some(p)) if t.starts_with('{') && t.ends_with('}') && !p.is_empty() => {}
            (Some(t), Some(p)) if t == p => {}
            _ => return false,
        }
    }
}

async fn answer_like_fastapi(State(compat): State<FastApiCompat>, request: Request, next: Next) -> Response {
    let path = request.uri().path();
    let under = |prefix: &String| {
        path.strip_prefix(prefix.as_str()).is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    if compat.passthrough.iter().any(under) {
        return next.run(request).await;
    }
    match compat.methods_for(path) {
        Some(methods) if methods.contains(request.method()) => next.run(request).await,
        Some(methods) => method_not_allowed(methods),
        None => redirect_or_not_found(&compat, &request),
    }
}

fn method_not_allowed(methods: &[Method]) -> Response {
    let allow = methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ");
    let mut response =
        (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "detail": "Method Not Allowed" }))).into_response();
    if let Ok(allow) = HeaderValue::from_str(&allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, Json(json!({ "detail": "Not Found" }))).into_response()
}

fn redirect_or_not_found(compat: &FastApiCompat, request: &Request) -> Response {
    let path = request.uri().path();
    let toggled = match path.strip_suffix('/') {
        _ if path == "/" => None,
        Some(without) => Some(without.to_owned()),
        None => Some(format!("{path}/")),
    };
    match toggled.filter(|t| compat.methods_for(t).is_some()) {
        Some(target) => redirect(request, &target),
        None => not_found(),
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
        Err(_) => not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::matches_template;

    #[test]
    fn templates_match_whole_segments() {
        assert!(matches_template("/users/me/", "/users/me/"));
        assert!(!matches_template("/users/me/", "/users/me"));
        assert!(matches_template("/items/{id}", "/items/7"));
        assert!(!matches_template("/items/{id}", "/items/"));
        assert!(!matches_template("/items/{id}", "/items/7/x"));
    }
}

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

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::head;
use axum::{Json, Router};
use serde_json::json;
use utoipa::openapi::OpenApi;
use utoipa::openapi::path::PathItem;

/// The documented routes, and what to answer around them.
///
/// Nothing here runs on the hot path: the router's own cold paths carry it (`fallback` for unknown paths,
/// `method_not_allowed_fallback` for a known path with another method, and an explicit `HEAD` route
/// answering 405 where FastAPI would), so a request that reaches its handler pays nothing for it.
#[derive(Debug, Clone)]
pub struct FastApiCompat {
    routes: Arc<Vec<(String, Vec<Method>)>>,
}

impl FastApiCompat {
    /// The routes of `document`, plus `other_get_paths` served outside it (Swagger UI's page).
    pub fn from_document(document: &OpenApi, other_get_paths: &[&str]) -> Self {
        let documented = document.paths.paths.iter().map(|(path, item)| (path.clone(), methods(item)));
        let others = other_get_paths.iter().map(|path| ((*path).to_owned(), vec![Method::GET, Method::HEAD]));
        FastApiCompat { routes: Arc::new(documented.chain(others).collect()) }
    }

    /// `router`, answering unknown paths and methods as FastAPI does.
    pub fn wrap(self, mut router: Router) -> Router {
        for (path, methods) in self.routes.iter() {
            // axum answers HEAD from the GET handler; FastAPI's API routes do not.
            if methods.contains(&Method::GET) && !methods.contains(&Method::HEAD) {
                let allow = allow_header(methods);
                router = router.route(path, head(move || async move { method_not_allowed(&allow) }));
            }
        }
        let for_methods = self.clone();
        router
            .method_not_allowed_fallback(move |request: Request| async move {
                let methods = for_methods.methods_for(request.uri().path()).unwrap_or(&[Method::GET]);
                method_not_allowed(&allow_header(methods))
            })
            .fallback(move |request: Request| async move { redirect_or_not_found(&self, &request) })
    }

    fn methods_for(&self, path: &str) -> Option<&[Method]> {
        self.routes.iter().find(|(template, _)| matches_template(template, path)).map(|(_, methods)| methods.as_slice())
    }
}

/// `Allow` as FastAPI writes it: the route's methods, comma and space separated.
fn allow_header(methods: &[Method]) -> String {
    methods.iter().filter(|m| **m != Method::HEAD).map(Method::as_str).collect::<Vec<_>>().join(", ")
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

fn method_not_allowed(allow: &str) -> Response {
    let mut response =
        (StatusCode::METHOD_NOT_ALLOWED, Json(json!({ "detail": "Method Not Allowed" }))).into_response();
    if let Ok(allow) = HeaderValue::from_str(allow) {
        response.headers_mut().insert(header::ALLOW, allow);
    }
    response
}

/// FastAPI's 404 body, for every path nothing serves.
pub(crate) fn not_found() -> Response {
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

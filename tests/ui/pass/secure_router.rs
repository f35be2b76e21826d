//! Every shape a secure-by-default router accepts: guarded handlers with each expression form, public
//! handlers with and without extractors, several methods on one path, and a route vouched public.
#[path = "../support/app.rs"]
mod app;

use app::{ActiveUser, AppState, User};
use axum::extract::{Path, State};
use scopes_runtime::routing::{Access, SecureRouter, get, post};
use scopes_runtime::{public, requires};

include!("../support/registry.rs");

#[requires(scopes = ["items"])]
async fn items(_user: ActiveUser) {}

#[requires(any("items", all("me", "items")))]
async fn either(_user: User, State(_state): State<AppState>, Path(_id): Path<u32>) {}

#[requires]
async fn status(_user: User) {}

#[public]
async fn health() -> &'static str {
    "ok"
}

#[public]
async fn echo(Path(id): Path<u32>, State(_state): State<AppState>) -> String {
    id.to_string()
}

fn main() {
    let (router, table) = SecureRouter::<AppState>::new()
        .route("/items", get(items).post(status))
        .route("/items/{id}", get(either).delete(echo))
        .route("/health", get(health))
        .route("/create", post(health))
        .public_route("/legacy", axum::routing::get(|| async { "legacy" }))
        .into_parts();
    let _: axum::Router<AppState> = router;
    assert_eq!(table.routes().len(), 7);
    assert_eq!(table.find("GET", "/items/{id}").unwrap().access.to_string(), "items");
    assert_eq!(table.find("DELETE", "/items/{id}").unwrap().access, Access::Public);
}

// axum's `get` on a `SecureRouter`, where `scopes_runtime::routing::get` was meant.
#[path = "../support/app.rs"]
mod app;

use app::{AppState, User};
use axum::routing::get;
use scopes_runtime::requires;
use scopes_runtime::routing::SecureRouter;

include!("../support/registry.rs");

#[requires(scopes = ["me"])]
async fn me(_user: User) -> &'static str {
    "me"
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/users/me", get(me));
}

// `#[axum::debug_handler(state = ...)]` directly under `#[requires]` checks the generated extractor: no
// false errors. (Above `#[requires]` it would check the principal before it becomes the extractor.)
#[path = "../support/app.rs"]
mod app;

use app::{ActiveUser, AppState, User};
use axum::extract::State;
use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

#[requires(scopes = ["items"])]
#[axum::debug_handler(state = AppState)]
async fn read_items(ActiveUser(user): ActiveUser, State(_state): State<AppState>) -> String {
    user.name
}

#[requires]
#[axum::debug_handler(state = AppState)]
async fn status(_user: User) -> &'static str {
    "ok"
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/items", get(read_items)).route("/status", get(status));
}

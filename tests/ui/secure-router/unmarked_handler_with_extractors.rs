// An unmarked handler that takes the state and a path: still refused, whatever it extracts.
#[path = "../support/app.rs"]
mod app;

use app::AppState;
use axum::extract::{Path, State};
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

async fn forgotten(State(_state): State<AppState>, Path(id): Path<u32>) -> String {
    id.to_string()
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/items/{id}", get(forgotten));
}

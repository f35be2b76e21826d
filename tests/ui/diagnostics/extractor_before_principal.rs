// An extractor before the principal: `#[requires]` hands the principal to the first parameter.
#[path = "../support/app.rs"]
mod app;

use app::User;
use axum::extract::Path;
use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

#[requires(scopes = ["me"])]
async fn read_item(Path(id): Path<u32>, user: User) -> String {
    format!("{id} of {}", user.name)
}

fn main() {
    let _ = SecureRouter::<app::AppState>::new().route("/items/{id}", get(read_item));
}

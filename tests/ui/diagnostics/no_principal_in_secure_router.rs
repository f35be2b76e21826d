// A guarded handler with no parameter, routed on a SecureRouter: one error, about the missing principal.
#[path = "../support/app.rs"]
mod app;

use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

#[requires(scopes = ["me"])]
async fn status() -> &'static str {
    "ok"
}

fn main() {
    let _ = SecureRouter::<app::AppState>::new().route("/status", get(status));
}

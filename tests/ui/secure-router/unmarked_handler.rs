// A handler with neither `#[requires]` nor `#[public]` on a secure-by-default router.
#[path = "../support/app.rs"]
mod app;

use app::AppState;
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

async fn forgotten() -> &'static str {
    "secret"
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/forgotten", get(forgotten));
}

// A handler taking the principal first, routed on a SecureRouter without `#[requires]`: one error, naming
// both attributes, not axum's "`Handler<_, _>` is not implemented".
#[path = "../support/app.rs"]
mod app;

use app::{AppState, User};
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

async fn me(user: User) -> String {
    user.name
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/users/me", get(me));
}

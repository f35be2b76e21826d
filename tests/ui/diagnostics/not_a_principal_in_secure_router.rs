// A `#[requires]` handler whose first parameter is no principal, with the state declared in the registry:
// one error, on the parameter's type, saying what to implement; the router adds none.
#[path = "../support/app.rs"]
mod app;

use app::AppState;
use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

pub struct Visitor;

#[requires(scopes = ["me"])]
async fn read(_who: Visitor) -> &'static str {
    "ok"
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/", get(read));
}

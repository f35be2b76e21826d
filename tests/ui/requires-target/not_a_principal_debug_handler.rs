#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

struct Stranger;

#[requires(scopes = ["me"])]
#[axum::debug_handler(state = app::AppState)]
async fn read(_who: Stranger) {}

fn router() -> axum::Router<app::AppState> {
    axum::Router::new().route("/", axum::routing::get(read))
}

fn main() {}

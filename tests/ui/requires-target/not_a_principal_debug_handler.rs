#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

struct Stranger;

#[requires(scopes = ["me"])]
#[axum::debug_handler(state = app::AppState)]
async fn read(_who: Stranger) {}

fn router() -> axum::Router<app::AppState> {
    axum::Router::new().route("/", axum::routing::get(read))
}

fn main() {}

// A crate that only verifies tokens issued elsewhere (issuer mode) declares no `token_url`: its handlers,
// its secure router and its OpenAPI document need none.
#[path = "../support/app.rs"]
mod app;

use app::{AppState, User};
use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};

scopes_runtime::registry! {
    state = app::AppState,
    scheme = "OAuth2",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

#[requires(scopes = ["items"])]
async fn items(_user: User) -> &'static str {
    "items"
}

fn main() {
    let (_router, routes) = SecureRouter::<AppState>::new().route("/items", get(items)).into_parts();
    assert_eq!(SCOPE_REGISTRY.token_url(), None);
    let mut document = utoipa::openapi::OpenApiBuilder::new().build();
    let _ = scopes_runtime::openapi::secure(&mut document, &SCOPE_REGISTRY, &scopes_runtime::ResponseStyle::Seed, &routes);
}

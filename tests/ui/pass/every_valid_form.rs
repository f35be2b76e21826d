#[path = "../support/app.rs"]
mod app;

use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

use axum::Router;
use axum::routing::get;

#[requires]
async fn bare(_user: User) {}

#[requires()]
async fn empty_parentheses(_user: User) {}

#[requires(scopes = [])]
async fn empty_list(_user: User) {}

#[requires(scopes = ["me"])]
async fn one_scope(user: User) -> String {
    user.name
}

#[requires(scopes = ["me", "items"])]
async fn two_scopes(_: User) {}

#[requires(scopes = ["items",],)]
async fn trailing_commas(_: User) {}

#[requires(scopes = ["me"], dpop = "required", acr = ["urn:example:mfa"], max_age = 300)]
async fn stepped_up(_: User) {}

#[requires(min_acr = "urn:example:mfa", dpop = "off")]
async fn at_least(_: User) {}

#[requires(scopes = ["items"])]
async fn through_a_guard(ActiveUser(user): ActiveUser) -> String {
    user.name
}

fn router() -> Router<app::AppState> {
    Router::new()
        .route("/bare", get(bare))
        .route("/stepped_up", get(stepped_up))
        .route("/at_least", get(at_least))
        .route("/empty_parentheses", get(empty_parentheses))
        .route("/empty_list", get(empty_list))
        .route("/one_scope", get(one_scope))
        .route("/two_scopes", get(two_scopes))
        .route("/trailing_commas", get(trailing_commas))
        .route("/through_a_guard", get(through_a_guard))
}

fn main() {
    let _ = router();
}

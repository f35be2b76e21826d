//! `#[requires]` beside `#[utoipa::path]` in either order, registered with utoipa-axum's `routes!`
//! (which reads the rewritten signature).
#[path = "../support/app.rs"]
mod app;

use app::{ActiveUser, User};
use scopes_runtime::requires;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

include!("../support/registry.rs");

#[requires(scopes = ["items"])]
#[utoipa::path(get, path = "/items", operation_id = "readItems", responses((status = 200, body = String)))]
async fn read_items(ActiveUser(user): ActiveUser) -> String {
    user.name
}

#[utoipa::path(get, path = "/status", responses((status = 200)))]
#[requires]
async fn status(_user: User) {}

fn main() {
    let (_router, document) =
        OpenApiRouter::<app::AppState>::new().routes(routes!(read_items)).routes(routes!(status)).split_for_parts();
    assert!(document.paths.paths.contains_key("/items"));
}

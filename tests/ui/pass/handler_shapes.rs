//! The annotated handler keeps its name, visibility, attributes, other extractors and return type.
#[path = "../support/app.rs"]
mod app;

use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

mod handlers {
    use super::*;

    /// Documented, public, with more extractors after the principal and a JSON body last.
    #[requires(scopes = ["items"])]
    #[allow(clippy::unused_async)]
    pub async fn update_item(
        ActiveUser(user): ActiveUser,
        State(_state): State<app::AppState>,
        Path(id): Path<u32>,
        Json(body): Json<serde_json::Value>,
    ) -> Json<(String, u32, serde_json::Value)> {
        Json((user.name, id, body))
    }

    #[requires(scopes = ["me"])]
    pub(crate) async fn mutable_binding(mut user: User) -> String {
        user.name.push('!');
        user.name
    }
}

fn router() -> Router<app::AppState> {
    Router::new()
        .route("/items/{id}", post(handlers::update_item))
        .route("/me", get(handlers::mutable_binding))
}

fn main() {
    let _ = router();
}

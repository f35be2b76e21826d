//! Guards stack: a guard built on a guard adds its own scopes to the chain.
#[path = "../support/app.rs"]
mod app;

use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

use axum::Router;
use axum::routing::get;
use scopes_runtime::{AuthError, Guard};

/// An active user who may also read items.
pub struct ItemReader(pub User);

#[requires(scopes = ["items"])]
impl Guard<app::AppState> for ItemReader {
    type Inner = ActiveUser;
    async fn check(ActiveUser(user): ActiveUser, _state: &app::AppState) -> Result<Self, AuthError> {
        Ok(ItemReader(user))
    }
}

#[requires]
async fn read(ItemReader(user): ItemReader) -> String {
    user.name
}

fn main() {
    let _: Router<app::AppState> = Router::new().route("/read", get(read));
}

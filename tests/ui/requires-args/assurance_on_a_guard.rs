#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

use scopes_runtime::{AuthError, Guard};

struct Admin(User);

#[requires(scopes = ["me"], max_age = 300)]
impl Guard<app::AppState> for Admin {
    type Inner = User;
    async fn check(user: User, _state: &app::AppState) -> Result<Self, AuthError> {
        Ok(Admin(user))
    }
}

fn main() {}

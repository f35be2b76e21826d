#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

use scopes_runtime::{AuthError, Guard};

struct Admin(User);

#[requires(scopes = ["admni"])]
impl Guard<app::AppState> for Admin {
    type Inner = User;
    async fn check(user: User, _state: &app::AppState) -> Result<Self, AuthError> {
        Ok(Admin(user))
    }
}

fn main() {}

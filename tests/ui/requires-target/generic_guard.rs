#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

use scopes_runtime::{AuthError, Guard};

struct Anyone(User);

#[requires(scopes = ["me"])]
impl<S: Send + Sync> Guard<S> for Anyone
where
    User: scopes_runtime::enforcement::Authorize<S>,
{
    type Inner = User;
    async fn check(user: User, _state: &S) -> Result<Self, AuthError> {
        Ok(Anyone(user))
    }
}

fn main() {}

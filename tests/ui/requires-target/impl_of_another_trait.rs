#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

struct Wrapper(User);

#[requires(scopes = ["me"])]
impl From<User> for Wrapper {
    fn from(user: User) -> Self {
        Wrapper(user)
    }
}

fn main() {}

#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

#[requires(scopes = ["me"], dpop = "mandatory")]
async fn read(_user: User) {}

fn main() {}

#[path = "../support/app.rs"]
mod app;

use app::User;
use scopes_runtime::{public, requires};

include!("../support/registry.rs");

#[public]
#[requires(scopes = ["me"])]
async fn both(_user: User) {}

fn main() {}

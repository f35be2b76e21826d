#[path = "../support/app.rs"]
mod app;

use app::User;
use scopes_runtime::requires;

include!("../support/registry.rs");

const READ_ME: &str = "readMe";

#[requires(scopes = ["me"])]
#[utoipa::path(get, path = "/me", operation_id = READ_ME, responses((status = 200)))]
async fn read(_user: User) {}

fn main() {}

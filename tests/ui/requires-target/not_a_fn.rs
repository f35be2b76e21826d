#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

#[requires(scopes = ["me"])]
struct NotAHandler;

fn main() {}

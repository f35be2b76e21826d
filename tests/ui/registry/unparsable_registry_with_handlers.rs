// A registry that does not even parse still leaves `SCOPE_REGISTRY` and the scope lookup defined, so the
// one syntax error is the only message.
#[path = "../support/app.rs"]
mod app;

use scopes_runtime::requires;

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = { "me" => },
}

#[requires(scopes = ["me"])]
async fn read(_user: app::User) {}

fn main() {
    let _ = SCOPE_REGISTRY.scopes();
}

// A scope named in code, for a check in a handler or a guard, is checked against the registry too.
use scopes_runtime::Scope;
use scopes_runtime::registry::scope;

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = { "items" => "Read items.", "admin" => "Administer everything." implies ["items"] },
}

const ADMIN: Scope = scope!("admni");

fn main() {
    let _ = ADMIN;
}

// The test kit's `scopes!` checks each scope against the registry, as `#[requires]` does.
use scopes_runtime::testing::scopes;

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = { "me" => "Read information about the current user.", "items" => "Read items." },
}

fn main() {
    let _ = scopes!["me", "itmes"];
}

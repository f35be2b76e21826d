// A crate that issues tokens with a registry that declares no `token_url`.
scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    scopes = {
        "me" => "Read information about the current user.",
    },
}

fn main() {
    let authority = scopes_runtime::Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    let _tokens = scopes_runtime::TokenEndpoint::new(authority, &SCOPE_REGISTRY);
}

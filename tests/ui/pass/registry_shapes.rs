//! A registry with scopes of every RFC 6749 character class, and none at all is fine too.
scopes_runtime::registry! {
    token_url = "/auth/token",
    scheme = "OAuth2",
    scopes = {
        "items:read" => "Read items.",
        "https://api.example.com/write" => "Write through the API.",
        "a!#$%&'()*+,-./[]^_`{|}~" => "Every allowed punctuation mark.",
    }
}

fn main() {
    assert_eq!(SCOPE_REGISTRY.scopes().len(), 3);
    assert_eq!(SCOPE_REGISTRY.token_url(), Some("/auth/token"));
}

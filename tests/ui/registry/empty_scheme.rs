scopes_runtime::registry! {
    scheme = "",
    token_url = "token",
    scopes = {},
}

fn main() {}

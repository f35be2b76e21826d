scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = { "me" => 42 },
}

fn main() {}

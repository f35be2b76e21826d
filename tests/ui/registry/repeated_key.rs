scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    token_url = "auth/token",
    scopes = { "me" => "Read information about the current user." },
}

fn main() {}

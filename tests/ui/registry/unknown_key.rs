scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    tokenurl = "token",
    scopes = { "me" => "Read information about the current user." },
}

fn main() {}

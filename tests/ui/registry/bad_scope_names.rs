scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "me" => "Declared twice.",
        "read items" => "Has a space.",
        "" => "Empty.",
    },
}

fn main() {}

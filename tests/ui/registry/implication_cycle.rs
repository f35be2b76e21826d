scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "admin" => "Everything." implies ["items:write"],
        "items:write" => "Write items." implies ["items"],
        "items" => "Read items." implies ["admin"],
    },
}

fn main() {}

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "items" => "Read items.",
        "admin" => "Everything." implies ["itmes", "reports"],
    },
}

fn main() {}

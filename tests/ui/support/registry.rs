// The registry every trybuild case declares at its crate root (`include!`d there: `#[requires]` finds it at
// `crate::`).
scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

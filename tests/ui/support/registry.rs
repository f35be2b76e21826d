// The registry every trybuild case declares at its crate root (`include!`d there: `#[requires]` finds it at
// `crate::`), with the state of `app.rs`, which each case declares as `mod app`.
scopes_runtime::registry! {
    state = app::AppState,
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

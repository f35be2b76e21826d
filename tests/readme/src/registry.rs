// The registry of a README block that declares none: every scope the README's examples name.
scopes_runtime::registry! {
    state = AppState,
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
        "items:read" => "Read items.",
        "items:write" => "Create and change items.",
        "audit" => "Audit.",
        "reports" => "Read usage reports.",
        "admin" => "Administer the API.",
        "todos" => "Read todos.",
        "todos:write" => "Write todos.",
        "transfer" => "Send money.",
        "settings" => "Change settings.",
    },
}

// A state that provides no `Authority`: one error, at the state the registry declares, saying how to
// provide one; neither the handlers nor the router add any.
use scopes_runtime::routing::{SecureRouter, get};
use scopes_runtime::{AuthError, Claims, Principal, requires};

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = { "me" => "Read information about the current user." },
    state = AppState,
}

#[derive(Clone)]
struct AppState {
    database: String,
}

struct User;

impl Principal<AppState> for User {
    async fn from_claims(_claims: &Claims, state: &AppState) -> Result<Self, AuthError> {
        let _ = &state.database;
        Ok(User)
    }
}

#[requires(scopes = ["me"])]
async fn me(_user: User) -> &'static str {
    "me"
}

#[requires]
async fn status(_user: User) -> &'static str {
    "ok"
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/me", get(me)).route("/status", get(status));
}

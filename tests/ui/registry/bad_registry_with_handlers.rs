// A malformed registry reports its own mistakes only: the crate's `#[requires]` handlers and guards, and
// the `SCOPE_REGISTRY` they use, add no errors of their own.
use axum::extract::FromRef;
use scopes_runtime::{AuthError, Authority, Claims, Guard, Principal, requires};

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items." implies ["itemz"],
    },
}

#[derive(Clone, FromRef)]
struct AppState {
    authority: Authority,
}

struct User;

impl Principal<AppState> for User {
    async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> {
        Ok(User)
    }
}

struct ActiveUser(User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for ActiveUser {
    type Inner = User;
    async fn check(user: User, _: &AppState) -> Result<Self, AuthError> {
        Ok(ActiveUser(user))
    }
}

#[requires(scopes = ["items"], any("me", "admin"))]
async fn read_items(_user: ActiveUser) {}

fn main() {
    let _ = SCOPE_REGISTRY.scopes();
}

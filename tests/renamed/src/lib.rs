//! The scopes runtime under another name (`my_scopes`): `registry!`, `#[requires]` on a handler and on a
//! guard, and `#[public]`, each told where the runtime is with `crate = my_scopes`. That this crate builds
//! is the check; its tests run one request through each.

use axum::extract::FromRef;
use my_scopes::routing::{SecureRouter, get};
use my_scopes::{AuthError, Authority, Claims, Guard, Principal};

my_scopes::registry! {
    crate = my_scopes,
    state = AppState,
    scheme = "OAuth2",
    token_url = "token",
    scopes = { "me" => "Read information about the current user.", "items" => "Read items." },
}

#[derive(Clone, FromRef)]
pub struct AppState {
    pub authority: Authority,
}

pub struct User(pub String);

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, _: &AppState) -> Result<Self, AuthError> {
        Ok(User(claims.sub.clone()))
    }
}

/// A user with `me`.
pub struct Me(pub User);

#[my_scopes::requires(crate = my_scopes, scopes = ["me"])]
impl Guard<AppState> for Me {
    type Inner = User;
    async fn check(user: User, _: &AppState) -> Result<Self, AuthError> {
        Ok(Me(user))
    }
}

#[my_scopes::requires(crate = "my_scopes", scopes = ["items"])]
pub async fn items(Me(User(name)): Me) -> String {
    format!("the items of {name}")
}

#[my_scopes::public(crate = my_scopes)]
pub async fn health() -> &'static str {
    "ok"
}

pub fn app(state: AppState) -> axum::Router {
    let (router, _) = SecureRouter::new().route("/items", get(items)).route("/health", get(health)).into_parts();
    router.with_state(state)
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use my_scopes::testing::{Minter, assert_refused, scopes};
    use tower::ServiceExt;

    use super::*;

    #[tokio::test]
    async fn the_renamed_runtime_guards_and_serves() {
        let authority = Authority::hs256(b"the renamed crate's secret, 32+ bytes").unwrap();
        let minter = Minter::new(&authority);
        let app = app(AppState { authority });
        let get = |path: &str, token: String| {
            Request::get(path).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap()
        };
        let ok = app.clone().oneshot(get("/items", minter.token("ann", scopes!["me", "items"]))).await.unwrap();
        assert_eq!(ok.status(), StatusCode::OK);
        let refused = app.clone().oneshot(get("/items", minter.token("ann", scopes!["items"]))).await.unwrap();
        assert_refused(&refused, StatusCode::FORBIDDEN, &["items me"]);
        let health = app.oneshot(Request::get("/health").body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(health.status(), StatusCode::OK);
    }
}

//! The seed's four endpoints, and the router that serves them.

use axum::extract::State;
use axum::http::Method;
use axum::routing::{get, post};
use axum::{Json, Router};
use scopes_runtime::{AuthError, PasswordRequestForm, TokenResponse, requires, verify_password};
use serde::Serialize;

use crate::AppState;
use crate::auth::ActiveUser;
use crate::compat::Routes;
use crate::users::User;

/// `POST /token`: the password grant. Grants whatever scopes the client asks for, as the seed does.
pub async fn login_for_access_token(
    State(state): State<AppState>,
    form: PasswordRequestForm,
) -> Result<Json<TokenResponse>, AuthError> {
    let record = state.users.get(&form.username);
    // An unknown user is checked against a stand-in hash: the same bcrypt work as a wrong password.
    let password_ok = verify_password(&form.password, record.map(|r| r.hashed_password.as_str())).await?;
    let Some(record) = record.filter(|_| password_ok) else {
        return Err(AuthError::IncorrectCredentials);
    };
    let access_token = state.authority.issue(&record.user.username, &form.scopes())?;
    Ok(Json(TokenResponse::bearer(access_token)))
}

/// `GET /users/me/`: the current active user (scope `me`, through the guard).
#[requires]
pub async fn read_users_me(ActiveUser(user): ActiveUser) -> Json<User> {
    Json(user)
}

/// One of the user's items.
#[derive(Debug, Serialize)]
pub struct Item {
    pub item_id: &'static str,
    pub owner: String,
}

/// `GET /users/me/items/`: the current active user's items; `items` on top of the guard's `me`.
#[requires(scopes = ["items"])]
pub async fn read_own_items(ActiveUser(user): ActiveUser) -> Json<Vec<Item>> {
    Json(vec![Item { item_id: "Foo", owner: user.username }])
}

/// The system status.
#[derive(Debug, Serialize)]
pub struct Status {
    pub status: &'static str,
}

/// `GET /status/`: any authenticated user, disabled ones included; no scope.
#[requires]
pub async fn read_system_status(_user: User) -> Json<Status> {
    Json(Status { status: "ok" })
}

/// The demo's router, with FastAPI's redirect, 404 and 405 behaviour.
pub fn router(state: AppState) -> Router {
    Routes::new()
        .route("/token", Method::POST, post(login_for_access_token))
        .route("/users/me/", Method::GET, get(read_users_me))
        .route("/users/me/items/", Method::GET, get(read_own_items))
        .route("/status/", Method::GET, get(read_system_status))
        .into_router()
        .with_state(state)
}

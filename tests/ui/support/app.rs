// A minimal app for the trybuild cases: state, a principal, and a guard requiring `me`.
// Each case declares its own registry at its crate root (it must declare `me`).
#![allow(dead_code)]

use axum::extract::FromRef;
use scopes_runtime::{AuthError, Authority, Claims, Guard, Principal, requires};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub authority: Authority,
}

pub struct User {
    pub name: String,
}

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
        Ok(User { name: claims.sub.clone() })
    }
}

pub struct ActiveUser(pub User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for ActiveUser {
    type Inner = User;
    async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
        Ok(ActiveUser(user))
    }
}

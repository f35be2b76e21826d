//! From a verified token to a user, and the guard every `/users/me` endpoint builds on.

use scopes_runtime::{AuthError, Claims, Guard, Principal, requires};

use crate::AppState;
use crate::users::User;

/// The seed's `get_current_user`: the token's `sub` must name a known user. Disabled users pass.
impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, state: &AppState) -> Result<Self, AuthError> {
        state.users.get(&claims.sub).map(|record| record.user.clone()).ok_or_else(AuthError::invalid_token)
    }
}

/// The seed's `get_current_active_user`: requires `me`, and refuses disabled users with 400.
pub struct ActiveUser(pub User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for ActiveUser {
    type Inner = User;

    async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
        if user.disabled == Some(true) {
            return Err(AuthError::InactiveUser);
        }
        Ok(ActiveUser(user))
    }
}

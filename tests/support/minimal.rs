//! The smallest app a test with its own registry needs: a state holding the token authority, and a
//! principal every verified token loads.

use axum::extract::FromRef;
use scopes_runtime::{AuthError, Authority, Claims, Principal, ResponseStyle};

use crate::SECRET;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub authority: Authority,
}

impl AppState {
    /// Verifying tokens signed with [`SECRET`], answering refusals in `style`.
    pub fn new(style: ResponseStyle) -> Self {
        AppState { authority: Authority::hs256(SECRET.as_bytes()).unwrap().with_response_style(style) }
    }
}

/// Whoever the token names.
pub struct User;

impl Principal<AppState> for User {
    async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> {
        Ok(User)
    }
}

//! FastAPI's "OAuth2 scopes" tutorial app, endpoint for endpoint, on the scopes framework.
//!
//! - [`users`]: the seed's two users and their bcrypt hashes.
//! - [`auth`]: how a token becomes a user (the seed's `get_current_user`) and the active-user guard
//!   (`get_current_active_user`, which requires `me`).
//! - [`routes`]: the four endpoints and the router.
//! - [`compat`]: what FastAPI itself answers around them: trailing-slash redirects, JSON 404 and 405.
//! - [`docs`]: the OpenAPI document and Swagger UI, served from the binary.
//! - [`config`]: flags and environment.

use std::sync::Arc;

use axum::extract::FromRef;
use scopes_runtime::{Authority, KeyError};

pub mod auth;
pub mod compat;
pub mod config;
pub mod docs;
pub mod routes;
pub mod users;

scopes_runtime::registry! {
    scheme = "OAuth2PasswordBearer",
    token_url = "token",
    scopes = {
        "me" => "Read information about the current user.",
        "items" => "Read items.",
    },
}

/// What every handler and guard can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Issues and verifies tokens.
    pub authority: Authority,
    /// The user database.
    pub users: Arc<users::UserStore>,
}

impl AppState {
    /// The seed's users, with tokens signed under `secret` (at least 32 bytes).
    pub fn seed(secret: &[u8]) -> Result<Self, KeyError> {
        Ok(AppState { authority: Authority::hs256(secret)?, users: Arc::new(users::UserStore::seed()) })
    }
}

pub use routes::router;

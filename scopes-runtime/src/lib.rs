//! Declarative OAuth2 scope authorization for [axum].
//!
//! Declare the scopes once with [`registry!`]; put [`#[requires(scopes = [...])]`](requires) on a handler;
//! the generated extractor reads the bearer token, verifies it, checks the scopes of the handler and of
//! every [`Guard`] it builds on, and hands the handler the authorized principal. A scope that is not
//! declared is a compile error pointing at the string.
//!
//! ```
//! use axum::{Json, Router, extract::FromRef, routing::get};
//! use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
//!
//! scopes_runtime::registry! {
//!     scheme = "OAuth2PasswordBearer",
//!     token_url = "token",
//!     scopes = {
//!         "me" => "Read information about the current user.",
//!         "items" => "Read items.",
//!     },
//! }
//!
//! #[derive(Clone, FromRef)]
//! struct AppState { authority: Authority }
//!
//! struct User { name: String }
//!
//! impl Principal<AppState> for User {
//!     async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
//!         Ok(User { name: claims.sub.clone() })
//!     }
//! }
//!
//! #[requires(scopes = ["me", "items"])]
//! async fn read_own_items(user: User) -> Json<Vec<String>> {
//!     Json(vec![format!("item of {}", user.name)])
//! }
//!
//! # fn main() {
//! let state = AppState { authority: Authority::hs256(b"0123456789abcdef0123456789abcdef") };
//! let app: Router = Router::new().route("/items", get(read_own_items)).with_state(state);
//! # }
//! ```

extern crate self as scopes_runtime;

pub mod bearer;
mod error;
mod form;
mod guard;
mod password;
mod registry;
mod token;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use error::{AuthError, Challenge, ValidationIssue};
pub use form::PasswordRequestForm;
pub use guard::{Authorize, Guard, Principal, Requirement};
pub use password::verify_password;
pub use registry::{Registry, Scope};
pub use scopes_macros::{registry, requires};
pub use token::{Authority, Claims, TokenError};

mod response;
pub use response::TokenResponse;

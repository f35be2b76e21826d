// A hand-written `Authorize` could hand a handler a principal no token vouches for: only a `Principal` or a
// guard declared with `#[requires]` is one.
#[path = "../support/app.rs"]
mod app;

use app::AppState;
use axum::http::request::Parts;
use scopes_runtime::{AuthError, Authority, enforcement::Authorize, Requirement};

include!("../support/registry.rs");

struct Admin;

impl Authorize<AppState> for Admin {
    async fn authorize(
        _parts: &mut Parts,
        _state: &AppState,
        _authority: Authority,
        _requirement: Requirement<'_>,
    ) -> Result<Self, AuthError> {
        Ok(Admin)
    }
}

fn main() {}

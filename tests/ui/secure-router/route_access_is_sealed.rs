// An app extractor that checks nothing cannot claim to protect a route: `RouteAccess` is sealed, so a
// `SecureRouter` never reports such a route as guarded.
#[path = "../support/app.rs"]
mod app;

use app::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use scopes_runtime::routing::{Access, RouteAccess};

include!("../support/registry.rs");

struct Anyone;

impl<S: Send + Sync> FromRequestParts<S> for Anyone {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(_parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Anyone)
    }
}

impl RouteAccess<AppState> for Anyone {
    fn access() -> Access {
        Access::Requires(vec![&[&[]]])
    }
}

fn main() {}

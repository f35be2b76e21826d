#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

include!("../support/registry.rs");

// Each reported at once: no class, an age of zero, `acr` and `min_acr` together.
#[requires(scopes = ["me"], acr = [], max_age = 0)]
async fn nothing_asked(_user: User) {}

#[requires(scopes = ["me"], acr = ["urn:example:mfa"], min_acr = "urn:example:mfa")]
async fn both(_user: User) {}

fn main() {}

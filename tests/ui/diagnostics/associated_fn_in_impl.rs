// `#[requires]` on an associated function of an inherent impl block: one error, on the function's name,
// saying to make it a free function.
#[path = "../support/app.rs"]
mod app;

use app::{AppState, User};
use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};

include!("../support/registry.rs");

struct NoteApi;

impl NoteApi {
    #[requires(scopes = ["me"])]
    async fn mine(user: User) -> String {
        user.name
    }
}

fn main() {
    let _ = SecureRouter::<AppState>::new().route("/notes/mine", get(NoteApi::mine));
}

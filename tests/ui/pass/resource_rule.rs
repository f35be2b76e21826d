// A handler with a resource rule beside its scopes compiles, routes on a `SecureRouter`, and can be called
// from a unit test with the test kit's `authorized` and `checked`.
#[path = "../support/app.rs"]
mod app;

use app::{Item, ItemOwner, User};
use scopes_runtime::enforcement::{Checked, GrantedBy};
use scopes_runtime::requires;
use scopes_runtime::routing::{SecureRouter, get};
use scopes_runtime::testing::{authorized, checked};

include!("../support/registry.rs");

#[requires(scopes = ["items"], any(rule(ItemOwner), "me"))]
async fn read(user: User, item: Checked<Item>) -> String {
    format!("{} reads item {} of {} ({:?})", user.name, item.id, item.owner, item.granted_by())
}

fn main() {
    let (_router, table) = SecureRouter::<app::AppState>::new().route("/items/{id}", get(read)).into_parts();
    assert_eq!(table.to_string(), "GET /items/{id}  items AND (owner OR me)\n");
    let body = read(authorized(User { name: "ann".into() }), checked(Item { id: 1, owner: "ann".into() }));
    let _ = (body, GrantedBy::Rule);
}

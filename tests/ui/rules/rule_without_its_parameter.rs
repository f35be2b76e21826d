#[path = "../support/app.rs"]
mod app;

#[allow(unused_imports)]
use app::{ActiveUser, User};
use scopes_runtime::requires;

#[allow(unused_imports)]
use app::{Item, ItemOwner, Note, NoteAuthor};
#[allow(unused_imports)]
use scopes_runtime::enforcement::{Checked, Visible};

include!("../support/registry.rs");

// The rule loads a resource the handler does not take.
#[requires(scopes = ["items"], rule(ItemOwner))]
async fn read(_user: User) {}

fn main() {}

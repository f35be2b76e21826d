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

// The rule loads an `Item`; the handler takes a `Note`.
#[requires(scopes = ["items"], rule(ItemOwner))]
async fn read(_user: User, _note: Checked<Note>) {}

fn main() {}

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

// One handler, one resource, one rule.
#[requires(any(rule(ItemOwner), rule(NoteAuthor)))]
async fn read(_user: User, _item: Checked<Item>) {}

fn main() {}

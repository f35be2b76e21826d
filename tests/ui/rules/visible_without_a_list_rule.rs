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

// `Visible` needs a rule that lists: `ItemOwner` implements no `ListRule`.
#[requires(scopes = ["items"], rule(ItemOwner))]
async fn list(_user: User, _items: Visible<Item>) {}

fn main() {}

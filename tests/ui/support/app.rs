// A minimal app for the trybuild cases: state, a principal, and a guard requiring `me`.
// Each case declares its own registry at its crate root (it must declare `me`).
#![allow(dead_code)]

use axum::extract::FromRef;
use scopes_runtime::{AuthError, Authority, Claims, Guard, Principal, requires};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub authority: Authority,
}

pub struct User {
    pub name: String,
}

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
        Ok(User { name: claims.sub.clone() })
    }
}

pub struct ActiveUser(pub User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for ActiveUser {
    type Inner = User;
    async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
        Ok(ActiveUser(user))
    }
}

pub struct Item {
    pub id: u32,
    pub owner: String,
}

pub struct Note {
    pub author: String,
}

/// Only the item's owner.
pub struct ItemOwner;

impl scopes_runtime::enforcement::Rule<AppState> for ItemOwner {
    const NAME: &'static str = "owner";
    const DESCRIPTION: &'static str = "The caller owns the item.";
    const PATH_PARAMS: &'static [&'static str] = &["id"];
    type Principal = User;
    type Params = u32;
    type Resource = Item;

    async fn load(id: u32, _state: &AppState) -> Result<Option<Item>, AuthError> {
        Ok(Some(Item { id, owner: "johndoe".into() }))
    }

    fn permits(user: &User, item: &Item) -> bool {
        item.owner == user.name
    }
}

/// Only the note's author.
pub struct NoteAuthor;

impl scopes_runtime::enforcement::Rule<AppState> for NoteAuthor {
    const NAME: &'static str = "author";
    const DESCRIPTION: &'static str = "The caller wrote the note.";
    type Principal = User;
    type Params = u32;
    type Resource = Note;

    async fn load(_id: u32, _state: &AppState) -> Result<Option<Note>, AuthError> {
        Ok(None)
    }

    fn permits(user: &User, note: &Note) -> bool {
        note.author == user.name
    }
}

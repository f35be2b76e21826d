// What the README's prose gives its Rust blocks: an app's state, user, items and todos, the handlers later
// blocks route, and the imports an app has. Included at the root of each block's doc test (`build.rs`).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scopes_runtime::{AuthError, Authority, Claims, Guard, Principal, public, requires};
use serde::Serialize;
use utoipa::{OpenApi, ToSchema};

#[derive(Clone, FromRef)]
pub struct AppState {
    pub authority: Authority,
    pub users: Arc<UserStore>,
    pub todos: Arc<TodoStore>,
}

impl AppState {
    pub fn example() -> Self {
        let authority = Authority::hs256(b"the README's examples' secret, 32+ bytes").unwrap();
        AppState { authority, users: Arc::default(), todos: Arc::default() }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct User {
    pub name: String,
    pub email: Option<String>,
    pub disabled: bool,
}

impl User {
    pub fn example() -> Self {
        User { name: "johndoe".into(), email: None, disabled: false }
    }
}

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, state: &AppState) -> Result<Self, AuthError> {
        state.users.get(&claims.sub).cloned().ok_or_else(AuthError::invalid_token)
    }
}

#[derive(Debug, Default)]
pub struct UserStore(Vec<User>);

impl UserStore {
    pub fn get(&self, name: &str) -> Option<&User> {
        self.0.iter().find(|user| user.name == name)
    }
}

/// A user whose account is enabled; requires `me`.
pub struct ActiveUser(pub User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for ActiveUser {
    type Inner = User;
    async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
        if user.disabled { Err(AuthError::InactiveUser) } else { Ok(ActiveUser(user)) }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Item {
    pub id: u32,
    pub owner: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ItemReport {
    pub items: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Status {
    pub up: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Todo {
    pub id: u32,
    pub owner: String,
}

#[derive(Debug, Default)]
pub struct TodoStore(std::sync::Mutex<Vec<Todo>>);

impl TodoStore {
    fn todos(&self) -> std::sync::MutexGuard<'_, Vec<Todo>> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
    pub async fn find(&self, id: u32) -> Result<Option<Todo>, AuthError> {
        Ok(self.todos().iter().find(|todo| todo.id == id).cloned())
    }
    pub async fn delete(&self, id: u32) {
        self.todos().retain(|todo| todo.id != id);
    }
    pub async fn all(&self) -> Result<Vec<Todo>, AuthError> {
        Ok(self.todos().clone())
    }
    pub async fn owned_by(&self, owner: &str) -> Result<Vec<Todo>, AuthError> {
        Ok(self.todos().iter().filter(|todo| todo.owner == owner).cloned().collect())
    }
}

/// The caller's items.
#[requires(scopes = ["items"])]
#[utoipa::path(get, path = "/users/me/items/", responses((status = 200, body = Vec<Item>)))]
pub async fn read_own_items(ActiveUser(user): ActiveUser) -> Json<Vec<Item>> {
    Json(vec![Item { id: 1, owner: user.name }])
}

/// A usage report. (Its requirement is one every registry of the README declares, its own blocks' included.)
#[requires(scopes = ["items"])]
pub async fn read_item_report(_user: User) -> Json<ItemReport> {
    Json(ItemReport { items: 1 })
}

#[derive(OpenApi)]
#[openapi(paths(read_own_items))]
pub struct ApiDoc;

pub fn notes_routes() -> scopes_runtime::routing::SecureRouter<AppState> {
    scopes_runtime::routing::SecureRouter::new().route("/notes", scopes_runtime::routing::get(read_own_items))
}

pub fn admin_routes() -> scopes_runtime::routing::SecureRouter<AppState> {
    scopes_runtime::routing::SecureRouter::new().route("/admin/report", scopes_runtime::routing::get(read_item_report))
}

#[public]
pub async fn health() -> &'static str {
    "ok"
}

#[public]
pub async fn not_found() -> StatusCode {
    StatusCode::NOT_FOUND
}

/// What the README's own verifier asks its endpoint.
pub async fn ask_the_endpoint<T>(_client: &T, _token: &str) -> Result<Claims, scopes_runtime::TokenError> {
    Ok(Claims::new("johndoe", ["me"], 4_000_000_000))
}

//! The baseline's state, hand-written extractors and routes: the demo's `GET /users/me/items/` and
//! `GET /status/` in plain axum + jsonwebtoken, no macro, answering the same bytes. Shared by the example
//! server (`main.rs`) and the criterion benchmark (`benches/guard.rs`).
#![allow(dead_code)] // each user of this module takes the part it needs

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

#[derive(Clone)]
pub struct AppState {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
    users: Arc<HashMap<String, User>>,
}

#[derive(Clone, Serialize)]
pub struct User {
    pub username: String,
    email: Option<String>,
    full_name: Option<String>,
    disabled: Option<bool>,
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    #[serde(default)]
    scopes: Vec<String>,
}

/// Why a request was refused, answered as the seed answers it.
pub enum Refusal {
    NotAuthenticated,
    InvalidCredentials(&'static str),
    NotEnoughPermissions(&'static str),
    InactiveUser,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let (status, detail, challenge) = match self {
            Refusal::NotAuthenticated => (StatusCode::UNAUTHORIZED, "Not authenticated", Some("Bearer")),
            Refusal::InvalidCredentials(challenge) => {
                (StatusCode::UNAUTHORIZED, "Could not validate credentials", Some(challenge))
            }
            Refusal::NotEnoughPermissions(challenge) => {
                (StatusCode::UNAUTHORIZED, "Not enough permissions", Some(challenge))
            }
            Refusal::InactiveUser => (StatusCode::BAD_REQUEST, "Inactive user", None),
        };
        let mut response = (status, Json(json!({ "detail": detail }))).into_response();
        if let Some(challenge) = challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(challenge));
        }
        response
    }
}

fn bearer_token(value: &[u8]) -> Option<&[u8]> {
    (value.len() > 7 && value[..7].eq_ignore_ascii_case(b"bearer ")).then(|| &value[7..])
}

/// Verifies the bearer token, loads its user and checks `required` scopes: what `#[requires]` generates.
fn authorize(parts: &Parts, state: &AppState, required: &[&str], challenge: &'static str) -> Result<User, Refusal> {
    let value = parts.headers.get(header::AUTHORIZATION).map(HeaderValue::as_bytes);
    let token = value.and_then(bearer_token).ok_or(Refusal::NotAuthenticated)?;
    let token = std::str::from_utf8(token).map_err(|_| Refusal::InvalidCredentials(challenge))?;
    let claims = jsonwebtoken::decode::<Claims>(token, &state.key, &state.validation)
        .map_err(|_| Refusal::InvalidCredentials(challenge))?
        .claims;
    let user = state.users.get(&claims.sub).cloned().ok_or(Refusal::InvalidCredentials(challenge))?;
    if !required.iter().all(|scope| claims.scopes.iter().any(|granted| granted == scope)) {
        return Err(Refusal::NotEnoughPermissions(challenge));
    }
    Ok(user)
}

/// The active user with `items` and `me`.
pub struct ItemsReader(pub User);

impl FromRequestParts<AppState> for ItemsReader {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let user = authorize(parts, state, &["items", "me"], "Bearer scope=\"items me\"")?;
        if user.disabled == Some(true) {
            return Err(Refusal::InactiveUser);
        }
        Ok(ItemsReader(user))
    }
}

/// Any authenticated user.
pub struct AnyUser;

impl FromRequestParts<AppState> for AnyUser {
    type Rejection = Refusal;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        authorize(parts, state, &[], "Bearer").map(|_| AnyUser)
    }
}

#[derive(Serialize)]
struct Item {
    item_id: &'static str,
    owner: String,
}

async fn read_own_items(ItemsReader(user): ItemsReader) -> Json<Vec<Item>> {
    Json(vec![Item { item_id: "Foo", owner: user.username }])
}

async fn read_system_status(_user: AnyUser) -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

fn seed_users() -> HashMap<String, User> {
    let user = |username: &str, email: &str, full_name: &str, disabled: bool| User {
        username: username.into(),
        email: Some(email.into()),
        full_name: Some(full_name.into()),
        disabled: Some(disabled),
    };
    HashMap::from([
        ("johndoe".into(), user("johndoe", "johndoe@example.com", "John Doe", false)),
        ("alice".into(), user("alice", "alicechains@example.com", "Alice Chains", true)),
    ])
}

impl AppState {
    /// The seed's users, verifying tokens signed under `secret`.
    pub fn new(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        AppState {
            key: Arc::new(DecodingKey::from_secret(secret)),
            validation: Arc::new(validation),
            users: Arc::new(seed_users()),
        }
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/users/me/items/", get(read_own_items))
        .route("/status/", get(read_system_status))
        .with_state(state)
}

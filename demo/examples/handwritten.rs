//! The baseline for the benchmarks: the demo's `GET /users/me/items/` and `GET /status/` written in plain
//! axum + jsonwebtoken, with a hand-written extractor and no macro, answering the same bytes.
//!
//! `cargo run --release -p demo --example handwritten -- 127.0.0.1:8001` (secret from `DEMO_SECRET_KEY`).
//! BENCHMARKS.md compares the demo against it.

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
struct AppState {
    key: Arc<DecodingKey>,
    validation: Arc<Validation>,
    users: Arc<HashMap<String, User>>,
}

#[derive(Clone, Serialize)]
struct User {
    username: String,
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
enum Refusal {
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
struct ItemsReader(User);

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
struct AnyUser;

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

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let bind = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8001".into());
    let secret = std::env::var("DEMO_SECRET_KEY").map_err(|_| std::io::Error::other("set DEMO_SECRET_KEY"))?;
    let mut validation = Validation::new(Algorithm::HS256);
    validation.leeway = 0;
    let state = AppState {
        key: Arc::new(DecodingKey::from_secret(secret.as_bytes())),
        validation: Arc::new(validation),
        users: Arc::new(seed_users()),
    };
    let app = Router::new()
        .route("/users/me/items/", get(read_own_items))
        .route("/status/", get(read_system_status))
        .with_state(state);
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await
}

//! The seed's four endpoints, documented where they are declared, and the app that serves them.
//!
//! Each endpoint's path and method are written once, in its `#[utoipa::path]`; the router and the OpenAPI
//! document are both built from that. Security is never written here: `#[requires]` and the guards are
//! the single source, and `scopes_runtime::openapi::secure` puts it in the document.

use axum::extract::State;
use axum::response::Response;
use axum::{Json, Router};
use scopes_runtime::openapi::{ErrorDetail, ValidationErrorBody};
use scopes_runtime::{ClientAddress, PasswordRequestForm, ResponseStyle, TokenResponse, requires};
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::ActiveUser;
use crate::compat::FastApiCompat;
use crate::users::User;
use crate::{AppState, docs};

/// `POST /token`: the password grant. Grants the requested scopes that are declared and that the user is
/// allowed; throttles repeated failures.
#[utoipa::path(
    post,
    path = "/token",
    summary = "Login For Access Token",
    request_body(content = PasswordRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Successful Response", body = TokenResponse),
        (status = 400, description = "Incorrect username or password; in the RFC style any RFC 6749 §5.2 error", body = ErrorDetail),
        (status = 413, description = "Request body too large", body = ErrorDetail),
        (status = 422, description = "Validation Error (seed style)", body = ValidationErrorBody),
        (status = 429, description = "Too many failed logins; see `Retry-After`", body = ErrorDetail),
    )
)]
pub async fn login_for_access_token(
    State(state): State<AppState>,
    client: ClientAddress,
    form: PasswordRequestForm,
) -> Response {
    let users = state.users.clone();
    state
        .tokens
        .grant(client, form, |username| async move { users.get(&username).map(|record| record.account()) })
        .await
}

/// `GET /users/me/`: the current active user (scope `me`, through the guard).
#[requires]
#[utoipa::path(
    get,
    path = "/users/me/",
    summary = "Read Users Me",
    responses(
        (status = 200, description = "Successful Response", body = User),
        (status = 400, description = "Inactive user", body = ErrorDetail),
    )
)]
pub async fn read_users_me(ActiveUser(user): ActiveUser) -> Json<User> {
    Json(user)
}

/// One of the user's items.
#[derive(Debug, Serialize, ToSchema)]
pub struct Item {
    pub item_id: &'static str,
    pub owner: String,
}

/// `GET /users/me/items/`: the current active user's items; `items` on top of the guard's `me`.
#[requires(scopes = ["items"])]
#[utoipa::path(
    get,
    path = "/users/me/items/",
    summary = "Read Own Items",
    responses(
        (status = 200, description = "Successful Response", body = Vec<Item>),
        (status = 400, description = "Inactive user", body = ErrorDetail),
    )
)]
pub async fn read_own_items(ActiveUser(user): ActiveUser) -> Json<Vec<Item>> {
    Json(vec![Item { item_id: "Foo", owner: user.username }])
}

/// The system status.
#[derive(Debug, Serialize, ToSchema)]
pub struct Status {
    pub status: &'static str,
}

/// `GET /status/`: any authenticated user, disabled ones included; no scope.
#[requires]
#[utoipa::path(
    get,
    path = "/status/",
    summary = "Read System Status",
    responses((status = 200, description = "Successful Response", body = Status))
)]
pub async fn read_system_status(_user: User) -> Json<Status> {
    Json(Status { status: "ok" })
}

#[derive(OpenApi)]
#[openapi(info(title = "scopes demo", description = "FastAPI's OAuth2-scopes tutorial app, on the scopes framework."))]
struct ApiDoc;

/// The API's routes and its OpenAPI document, security and refusals as `style` answers them included.
///
/// # Panics
/// When a `#[requires]` handler has no operation in the document: its security would be missing from
/// the docs. That is a mistake in this file, found at start-up (and by the tests) before any request.
pub fn api(style: &ResponseStyle) -> (Router<AppState>, OpenApiDocument) {
    let (router, mut document) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(login_for_access_token))
        .routes(routes!(read_users_me))
        .routes(routes!(read_own_items))
        .routes(routes!(read_system_status))
        .split_for_parts();
    if let Err(unlinked) = scopes_runtime::openapi::secure(&mut document, &crate::SCOPE_REGISTRY, style) {
        panic!("{unlinked}");
    }
    (router, document)
}

/// The OpenAPI document alone, for refusals answered in `style`, as `demo openapi` prints it.
pub fn openapi(style: &ResponseStyle) -> OpenApiDocument {
    api(style).1
}

/// The demo app: the API with FastAPI's redirect, 404 and 405 behaviour, its document at
/// [`docs::OPENAPI_PATH`] and Swagger UI at [`docs::DOCS_PATH`].
pub fn router(state: AppState) -> Router {
    let (api, document) = api(state.authority.response_style());
    let compat = FastApiCompat::from_document(&document, &[docs::DOCS_PATH, docs::OPENAPI_PATH]);
    compat.wrap(api.merge(docs::routes(document)).with_state(state))
}

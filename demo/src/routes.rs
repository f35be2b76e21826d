//! The seed's four endpoints and the demo's two more, documented where they are declared, and the app
//! that serves them.
//!
//! The router is a `SecureRouter`: every handler is `#[requires(...)]` or `#[public]`, or the demo does
//! not compile. Security is never written twice: `#[requires]` and the guards are the single source; the
//! router's route table reports it (`demo routes`) and `scopes_runtime::openapi::secure` puts it in the
//! document, refusing to start if a guarded route is missing from it.

use axum::extract::State;
use axum::response::Response;
use axum::{Json, Router};
use scopes_runtime::openapi::{ErrorDetail, ValidationErrorBody};
use scopes_runtime::routing::{RouteTable, SecureRouter, get, post};
use scopes_runtime::{ClientAddress, PasswordRequestForm, ResponseStyle, TokenResponse, public, requires};
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::{OpenApi, ToSchema};

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
        (status = 503, description = "Too many logins waiting for a password check; see `Retry-After`", body = ErrorDetail),
    )
)]
#[public]
pub async fn login_for_access_token(
    State(state): State<AppState>,
    client: ClientAddress,
    form: PasswordRequestForm,
) -> Response {
    let accounts = state.clone();
    // The seed's users live in memory: the lookup cannot fail.
    let find = |username: String| async move {
        Ok::<_, std::convert::Infallible>(accounts.users.get(&username).map(|record| record.account()))
    };
    state.tokens.grant(client, form, find).await
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

/// `GET /admin/users/`: every username; requires `admin`, which implies every other scope (so an
/// `admin` token also reads the seed's endpoints), on top of the guard's `me`.
#[requires(scopes = ["admin"])]
#[utoipa::path(
    get,
    path = "/admin/users/",
    summary = "Read All Users",
    responses(
        (status = 200, description = "Successful Response", body = Vec<String>),
        (status = 400, description = "Inactive user", body = ErrorDetail),
    )
)]
pub async fn read_all_users(_admin: ActiveUser, State(state): State<AppState>) -> Json<Vec<String>> {
    Json(state.users.usernames())
}

/// A usage report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemReport {
    pub users: usize,
    pub items: usize,
}

/// `GET /reports/items/`: how many users and items there are; accepts either of two scopes, `reports` or
/// `admin`, from any authenticated user.
#[requires(any("reports", "admin"))]
#[utoipa::path(
    get,
    path = "/reports/items/",
    summary = "Read Item Report",
    responses((status = 200, description = "Successful Response", body = ItemReport))
)]
pub async fn read_item_report(_user: User, State(state): State<AppState>) -> Json<ItemReport> {
    let users = state.users.usernames().len();
    Json(ItemReport { users, items: users })
}

#[derive(OpenApi)]
#[openapi(
    info(title = "scopes demo", description = "FastAPI's OAuth2-scopes tutorial app, on the scopes framework."),
    paths(login_for_access_token, read_users_me, read_own_items, read_system_status, read_all_users, read_item_report)
)]
struct ApiDoc;

/// The API's routes, each `#[requires(...)]` or `#[public]`, and who may call each.
pub fn secure_routes() -> SecureRouter<AppState> {
    SecureRouter::new()
        .route("/token", post(login_for_access_token))
        .route("/users/me/", get(read_users_me))
        .route("/users/me/items/", get(read_own_items))
        .route("/status/", get(read_system_status))
        .route("/admin/users/", get(read_all_users))
        .route("/reports/items/", get(read_item_report))
}

/// The API's routes, its OpenAPI document (security and refusals as `style` answers them included), and
/// the route table of the API and its documentation.
///
/// # Panics
/// When a guarded route has no operation in the document: its security would be missing from the docs.
/// That is a mistake in this file, found at start-up (and by the tests) before any request.
pub fn api(style: &ResponseStyle) -> (Router<AppState>, OpenApiDocument, RouteTable) {
    let (api, api_table) = secure_routes().into_parts();
    let mut document = ApiDoc::openapi();
    if let Err(unlinked) = scopes_runtime::openapi::secure(&mut document, &crate::SCOPE_REGISTRY, style, &api_table) {
        panic!("{unlinked}");
    }
    // The document reaches the docs routes as an extension layered on them alone: a layer over the whole
    // router would cost every API request an insertion into its extensions.
    let (docs, docs_table) = docs::routes(SecureRouter::new()).into_parts();
    let docs = docs.layer(axum::Extension(std::sync::Arc::new(document.clone())));
    (api.merge(docs), document, api_table.merge(docs_table))
}

/// The OpenAPI document alone, for refusals answered in `style`, as `demo openapi` prints it.
pub fn openapi(style: &ResponseStyle) -> OpenApiDocument {
    api(style).1
}

/// Every route with its method, path and effective requirement, as `demo routes` prints it.
pub fn route_table() -> RouteTable {
    api(&ResponseStyle::Seed).2
}

/// The demo app: the API with FastAPI's redirect, 404 and 405 behaviour, its document at
/// [`docs::OPENAPI_PATH`] and Swagger UI at [`docs::DOCS_PATH`].
pub fn router(state: AppState) -> Router {
    let (api, document, _) = api(state.authority.response_style());
    let compat = FastApiCompat::from_document(&document, &[docs::DOCS_PATH, docs::OPENAPI_PATH]);
    compat.wrap(api.with_state(state))
}

//! A notes API on the scopes framework, built the way an app outgrows one flat router:
//!
//! - two [`SecureRouter`]s, the notes and the administration, merged and nested under `/api/v1`;
//! - public routes beside them (`/health`), Swagger UI and the OpenAPI document through the same router
//!   (`openapi::SwaggerUi`, each route reported), and a JSON fallback for every other path;
//! - a layer over everything (a response header), and a route layer over the API alone;
//! - the route table reports every route with its full path, and the OpenAPI document, nested the same
//!   way and secured for the authority in one call (`openapi::secure_for`), has every guarded operation
//!   linked to its requirement;
//! - a resource rule, [`NoteAuthor`]: a note's author, or an `admin`, may change it.

use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use scopes_runtime::enforcement::{Checked, Rule};
use scopes_runtime::openapi::SwaggerUi;
use scopes_runtime::routing::{RouteTable, SecureRouter, get};
use scopes_runtime::{AuthError, Authority, Claims, Principal, ResponseStyle, public, requires};
use serde::{Deserialize, Serialize};
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::{OpenApi, ToSchema};

scopes_runtime::registry! {
    state = AppState,
    scheme = "OAuth2",
    token_url = "/token",
    scopes = {
        "notes:read" => "Read notes.",
        "notes:write" => "Write notes." implies ["notes:read"],
        "admin" => "Administer the notes." implies ["notes:write"],
    },
}

/// Where the API is served.
pub const API_PREFIX: &str = "/api/v1";

/// The app's state: the token authority and the notes.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub authority: Authority,
    pub notes: Arc<Mutex<Vec<Note>>>,
}

impl AppState {
    /// No notes yet; tokens verified with `authority`.
    pub fn new(authority: Authority) -> Self {
        AppState { authority: authority.with_response_style(ResponseStyle::default()), notes: Arc::default() }
    }
}

/// Whoever the token names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
}

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
        Ok(User { name: claims.sub.clone() })
    }
}

/// A note.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Note {
    pub id: usize,
    pub author: String,
    pub text: String,
}

/// A note to write.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct NewNote {
    pub text: String,
}

/// Every note.
#[utoipa::path(get, path = "/notes", responses((status = 200, body = Vec<Note>)))]
#[requires(scopes = ["notes:read"])]
pub async fn list_notes(_user: User, State(state): State<AppState>) -> Json<Vec<Note>> {
    Json(state.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone())
}

/// One note, by id.
#[utoipa::path(get, path = "/notes/{id}", params(("id" = usize, Path)), responses((status = 200, body = Note), (status = 404)))]
#[requires(scopes = ["notes:read"])]
pub async fn read_note(_user: User, State(state): State<AppState>, Path(id): Path<usize>) -> Response {
    let notes = state.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match notes.iter().find(|note| note.id == id) {
        Some(note) => Json(note.clone()).into_response(),
        None => not_found_body(),
    }
}

/// Only the note's author: who may change a note, beside `admin`.
pub struct NoteAuthor;

impl Rule<AppState> for NoteAuthor {
    const NAME: &'static str = "author";
    const DESCRIPTION: &'static str = "The caller wrote the note.";
    const PATH_PARAMS: &'static [&'static str] = &["id"];
    type Principal = User;
    type Params = usize;
    type Resource = Note;

    async fn load(id: usize, state: &AppState) -> Result<Option<Note>, AuthError> {
        let notes = state.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(notes.iter().find(|note| note.id == id).cloned())
    }

    fn permits(user: &User, note: &Note) -> bool {
        note.author == user.name
    }
}

/// Changes a note's text: its author, or an `admin`.
#[utoipa::path(put, path = "/notes/{id}", params(("id" = usize, Path)), request_body = NewNote, responses((status = 200, body = Note)))]
#[requires(scopes = ["notes:write"], any(rule(NoteAuthor), "admin"))]
pub async fn edit_note(
    _user: User,
    State(state): State<AppState>,
    note: Checked<Note>,
    Json(edit): Json<NewNote>,
) -> Response {
    let mut notes = state.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    match notes.iter_mut().find(|stored| stored.id == note.id) {
        Some(stored) => {
            stored.text = edit.text;
            Json(stored.clone()).into_response()
        }
        None => not_found_body(),
    }
}

/// Writes a note as the token's subject.
#[utoipa::path(post, path = "/notes", request_body = NewNote, responses((status = 201, body = Note)))]
#[requires(scopes = ["notes:write"])]
pub async fn write_note(
    user: User,
    State(state): State<AppState>,
    Json(new): Json<NewNote>,
) -> (StatusCode, Json<Note>) {
    let mut notes = state.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let note = Note { id: notes.len() + 1, author: user.name, text: new.text };
    notes.push(note.clone());
    (StatusCode::CREATED, Json(note))
}

/// How many notes there are.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stats {
    pub notes: usize,
}

/// Statistics, for administrators.
#[utoipa::path(get, path = "/admin/stats", responses((status = 200, body = Stats)))]
#[requires(scopes = ["admin"])]
pub async fn stats(_user: User, State(state): State<AppState>) -> Json<Stats> {
    Json(Stats { notes: state.notes.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).len() })
}

/// Whether the service is up.
#[public]
pub async fn health() -> &'static str {
    "ok"
}

/// Any path no route serves.
#[public]
pub async fn not_found() -> Response {
    not_found_body()
}

fn not_found_body() -> Response {
    (StatusCode::NOT_FOUND, Json(serde_json::json!({ "detail": "Not Found" }))).into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "notes", description = "An example app on the scopes framework."),
    paths(list_notes, read_note, write_note, edit_note, stats)
)]
struct ApiDoc;

/// The notes routes.
pub fn notes_routes() -> SecureRouter<AppState> {
    SecureRouter::new()
        .route("/notes", get(list_notes).post(write_note))
        .route("/notes/{id}", get(read_note).put(edit_note))
}

/// The administration routes.
pub fn admin_routes() -> SecureRouter<AppState> {
    SecureRouter::new().route("/admin/stats", get(stats))
}

/// The whole app as a secure router, and its OpenAPI document with every guarded operation linked and the
/// security of `authority` (its response style, the scheme its tokens come from).
///
/// # Panics
/// When a guarded route has no operation in the document: a mistake in this file, found at start-up.
pub fn app(authority: &Authority) -> (SecureRouter<AppState>, OpenApiDocument) {
    let api_version =
        SetResponseHeaderLayer::overriding(HeaderName::from_static("x-api-version"), HeaderValue::from_static("1"));
    let api = notes_routes().merge(admin_routes()).route_layer(api_version);
    let router = SecureRouter::new().nest(API_PREFIX, api).route("/health", get(health));
    // The document is nested as the routes are, so its paths are the table's.
    let mut document = OpenApiDocument::builder().build().nest(API_PREFIX, ApiDoc::openapi());
    document.info = ApiDoc::openapi().info;
    if let Err(unlinked) =
        scopes_runtime::openapi::secure_for(&mut document, &SCOPE_REGISTRY, authority, router.table())
    {
        panic!("{unlinked}");
    }
    let served_by =
        SetResponseHeaderLayer::overriding(HeaderName::from_static("x-served-by"), HeaderValue::from_static("notes"));
    let router =
        router.merge(SwaggerUi::new("/docs", "/openapi.json", document.clone())).fallback(not_found).layer(served_by);
    (router, document)
}

/// The served app.
pub fn router(state: AppState) -> Router {
    let (router, _) = app(&state.authority).0.into_parts();
    router.with_state(state)
}

/// Every route with its full path and who may call it.
pub fn route_table(authority: &Authority) -> RouteTable {
    app(authority).0.into_parts().1
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use scopes_runtime::testing::{Minter, assert_refused, authorized, checked, scopes};
    use tower::ServiceExt;

    use super::*;

    fn state() -> AppState {
        AppState::new(Authority::hs256(b"the notes unit tests' secret, 32+ bytes").unwrap())
    }

    #[tokio::test]
    async fn a_written_note_is_signed_by_the_principal() {
        let state = state();
        let ann = User { name: "ann".into() };
        let (status, Json(note)) =
            write_note(authorized(ann), State(state.clone()), Json(NewNote { text: "hello".into() })).await;
        assert_eq!(status, StatusCode::CREATED);
        assert_eq!(note, Note { id: 1, author: "ann".into(), text: "hello".into() });
        let Json(notes) = list_notes(authorized(User { name: "bob".into() }), State(state)).await;
        assert_eq!(notes, [note]);
    }

    #[tokio::test]
    async fn the_author_rule_and_the_edit_are_tested_apart() {
        let state = state();
        let note = Note { id: 1, author: "ann".into(), text: "draft".into() };
        state.notes.lock().unwrap().push(note.clone());
        // The rule alone, against a principal and a resource.
        assert!(NoteAuthor::permits(&User { name: "ann".into() }, &note));
        assert!(!NoteAuthor::permits(&User { name: "bob".into() }, &note));
        // The handler's body, given the resource the rule would have passed.
        let edited = edit_note(
            authorized(User { name: "ann".into() }),
            State(state.clone()),
            checked(note),
            Json(NewNote { text: "final".into() }),
        )
        .await;
        assert_eq!(edited.status(), StatusCode::OK);
        assert_eq!(state.notes.lock().unwrap()[0].text, "final");
    }

    #[tokio::test]
    async fn statistics_count_the_notes() {
        let state = state();
        state.notes.lock().unwrap().push(Note { id: 1, author: "ann".into(), text: "x".into() });
        let Json(counted) = stats(authorized(User { name: "root".into() }), State(state)).await;
        assert_eq!(counted.notes, 1);
    }

    #[tokio::test]
    async fn tokens_without_the_scope_or_out_of_date_are_refused() {
        let state = state();
        let minter = Minter::new(&state.authority);
        let app = router(state);
        let request = |token: String| {
            Request::post("/api/v1/notes")
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json")
                .body(Body::from(r#"{"text": "hi"}"#))
                .unwrap()
        };
        let reader = app.clone().oneshot(request(minter.token("ann", scopes!["notes:read"]))).await.unwrap();
        assert_refused(&reader, StatusCode::FORBIDDEN, &["notes:write"]);
        for stale in [minter.expired("ann", scopes!["admin"]), minter.not_yet_valid("ann", scopes!["admin"])] {
            // The RFC style names no scope in an `invalid_token` challenge.
            let refused = app.clone().oneshot(request(stale)).await.unwrap();
            assert_refused(&refused, StatusCode::UNAUTHORIZED, &[]);
        }
        let forged = app.clone().oneshot(request(minter.with_wrong_key("ann", scopes!["admin"]))).await.unwrap();
        assert_refused(&forged, StatusCode::UNAUTHORIZED, &[]);
        let written = app.oneshot(request(minter.token("ann", scopes!["admin"]))).await.unwrap();
        assert_eq!(written.status(), StatusCode::CREATED, "admin implies notes:write");
    }
}

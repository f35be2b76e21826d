//! An app of one's own in issuer mode, as a new user writes it from the README (issue 27): a registry
//! without `token_url`, the document's whole security in one call (`openapi::secure_for`), and Swagger UI
//! entering the `SecureRouter`, so the route report lists `/docs` and `/openapi.json`.

use std::time::Duration;

use axum::body::Body;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRef, Path};
use axum::http::{Request, StatusCode, header};
use axum::{Json, Router};
use http_body_util::BodyExt;
use scopes_runtime::observing::{AuditEvent, Outcome};
use scopes_runtime::openapi::SwaggerUi;
use scopes_runtime::routing::{RouteTable, SecureRouter, delete, get};
use scopes_runtime::testing::FakeProvider;
use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
use serde_json::{Value, json};
use tower::ServiceExt;
use utoipa::OpenApi;

scopes_runtime::registry! {
    state = AppState,
    scheme = "OAuth2",
    scopes = {
        "todos" => "Read todos.",
        "todos:write" => "Write todos." implies ["todos"],
    },
}

const AUDIENCE: &str = "https://todos.example";

#[derive(Clone, FromRef)]
struct AppState {
    authority: Authority,
}

struct User {
    name: String,
}

impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
        Ok(User { name: claims.sub.clone() })
    }
}

/// Deletes a todo: the app's own rule, written in the handler, refuses anyone but `ann`.
#[utoipa::path(delete, path = "/todos/{id}", params(("id" = u32, Path)), responses((status = 204)))]
#[requires(scopes = ["todos:write"])]
async fn delete_todo(user: User, Path(_id): Path<u32>) -> Result<StatusCode, AuthError> {
    if user.name != "ann" {
        return Err(AuthError::Rejected { status: StatusCode::FORBIDDEN, detail: "Only ann deletes todos".into() });
    }
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's todos.
#[utoipa::path(get, path = "/todos", responses((status = 200, body = Vec<String>)))]
#[requires(scopes = ["todos"])]
async fn list_todos(user: User) -> Json<Vec<String>> {
    Json(vec![format!("{}'s first todo", user.name)])
}

#[derive(OpenApi)]
#[openapi(paths(list_todos, delete_todo))]
struct ApiDoc;

/// The app as its author writes it: the API, its document in one call, Swagger UI through the router.
fn app(authority: &Authority) -> (Router<AppState>, RouteTable) {
    let api = SecureRouter::new().route("/todos", get(list_todos)).route("/todos/{id}", delete(delete_todo));
    let mut document = ApiDoc::openapi();
    if let Err(unlinked) = scopes_runtime::openapi::secure_for(&mut document, &SCOPE_REGISTRY, authority, api.table()) {
        panic!("{unlinked}");
    }
    api.merge(SwaggerUi::new("/docs", "/openapi.json", document)).into_parts()
}

async fn send(app: &Router, path: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    send_as(app, "GET", path, token).await
}

async fn send_as(app: &Router, method: &str, path: &str, token: Option<&str>) -> (StatusCode, Vec<u8>) {
    let mut request = Request::builder().method(method).uri(path);
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let response = app.clone().oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let status = response.status();
    (status, response.into_body().collect().await.unwrap().to_bytes().to_vec())
}

#[tokio::test]
async fn an_issuer_mode_app_documents_the_providers_flows_in_one_call_and_reports_its_swagger_ui() {
    let provider = FakeProvider::start().await;
    let authority = Authority::from_providers([provider.provider()], AUDIENCE).unwrap();
    assert!(authority.wait_for_keys(Duration::from_secs(10)).await, "the provider's keys and discovery");
    let (router, routes) = app(&authority);
    assert_eq!(
        routes.to_string(),
        "GET    /todos         todos\n\
         DELETE /todos/{id}    todos:write\n\
         GET    /openapi.json  public\n\
         GET    /docs          public\n\
         GET    /docs/         public\n\
         GET    /docs/{*rest}  public\n"
    );
    let app = router.with_state(AppState { authority });

    let (status, body) = send(&app, "/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK);
    let document: Value = serde_json::from_slice(&body).unwrap();
    let issuer = provider.issuer().trim_end_matches('/');
    let scheme = &document["components"]["securitySchemes"]["OAuth2"];
    // The provider's flows at its endpoints, with the registry's scopes: no password flow at a relative
    // `token` URL that the app does not serve.
    assert_eq!(scheme["type"], "oauth2");
    assert_eq!(scheme["flows"]["authorizationCode"]["authorizationUrl"], format!("{issuer}/authorize"));
    assert_eq!(scheme["flows"]["clientCredentials"]["scopes"]["todos:write"], "Write todos. Implies: todos.");
    assert!(scheme["flows"].get("password").is_none(), "{scheme}");
    let operation = &document["paths"]["/todos"]["get"];
    assert_eq!(operation["security"], json!([{"OAuth2": ["todos"]}]));
    assert!(operation["responses"].get("401").is_some(), "the refusal is documented");

    // The API answers the provider's tokens.
    let token = provider.token("ann", ["todos"], AUDIENCE);
    let (status, body) = send(&app, "/todos", Some(&token)).await;
    assert_eq!(
        (status, serde_json::from_slice::<Value>(&body).unwrap()),
        (StatusCode::OK, json!(["ann's first todo"]))
    );
    assert_eq!(send(&app, "/todos", None).await.0, StatusCode::UNAUTHORIZED);

    // Swagger UI's page and its assets, from the binary.
    let (status, page) = send(&app, "/docs/", None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&page).contains("swagger-ui"));
    assert_eq!(send(&app, "/docs/swagger-ui.css", None).await.0, StatusCode::OK);
    assert!(send(&app, "/docs", None).await.0.is_redirection());
}

/// What the app's audit trail keeps of a decision: who, where, and whether the handler refused.
type Seen = Arc<Mutex<Vec<(Option<String>, Option<String>, Outcome, bool)>>>;

#[tokio::test]
async fn a_refusal_the_handler_returns_is_an_audit_event_with_the_subject_its_guard_granted() {
    let provider = FakeProvider::start().await;
    let seen = Seen::default();
    let hook = seen.clone();
    let authority = Authority::from_providers([provider.provider()], AUDIENCE).unwrap().with_audit_hook(move |event| {
        if let AuditEvent::Decision(decision) = event {
            let subject = decision.subject.as_deref().map(str::to_owned);
            let route = decision.route.map(str::to_owned);
            hook.lock().unwrap().push((subject, route, decision.outcome, decision.by_handler));
        }
    });
    let app = app(&authority).0.with_state(AppState { authority });

    let bob = provider.token("bob", ["todos:write"], AUDIENCE);
    let (status, body) = send_as(&app, "DELETE", "/todos/1", Some(&bob)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{}", String::from_utf8_lossy(&body));
    let ann = provider.token("ann", ["todos:write"], AUDIENCE);
    assert_eq!(send_as(&app, "DELETE", "/todos/1", Some(&ann)).await.0, StatusCode::NO_CONTENT);

    let route = Some("/todos/{id}".to_owned());
    assert_eq!(
        *seen.lock().unwrap(),
        [
            // bob: the guard grants, then the handler refuses, told with bob as the subject.
            (Some("bob".to_owned()), route.clone(), Outcome::Granted, false),
            (Some("bob".to_owned()), route.clone(), Outcome::Refused, true),
            // ann: granted, and the handler answers: nothing more.
            (Some("ann".to_owned()), route, Outcome::Granted, false),
        ]
    );
}

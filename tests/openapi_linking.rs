//! How guarded routes get their OpenAPI security: matched by method and path through the route table of
//! a `SecureRouter`, expressions as OR-ed security requirements, implications in the scope descriptions;
//! and what happens when a guarded route has no operation: it is reported, never silently left unsecured.

use scopes_runtime::routing::{SecureRouter, get, post};
use scopes_runtime::{AuthError, Guard, public, requires};
use scopes_tests::minimal::{AppState, User};
use serde_json::{Value, json};
use utoipa::OpenApi;

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = {
        "read" => "Read things.",
        "write" => "Write things." implies ["read"],
        "admin" => "Everything." implies ["write"],
        "me" => "Who you are.",
    },
}

struct Me(User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for Me {
    type Inner = User;
    async fn check(user: User, _: &AppState) -> Result<Self, AuthError> {
        Ok(Me(user))
    }
}

/// `#[requires]` above or below `#[utoipa::path]`: the order does not matter, nor does a renamed operation.
#[requires(scopes = ["read"])]
#[utoipa::path(get, path = "/above", operation_id = "readAbove", responses((status = 200)))]
async fn requires_above(_user: User) {}

#[utoipa::path(get, path = "/below", operation_id = "renamedBelow", responses((status = 200)))]
#[requires(scopes = ["read"])]
async fn requires_below(_user: User) {}

/// Either scope, on top of the guard's `me`.
#[requires(any("write", all("admin", "read")))]
#[utoipa::path(post, path = "/either", responses((status = 200)))]
async fn either(_me: Me) {}

/// Authentication only: an empty scope list.
#[requires]
#[utoipa::path(get, path = "/authenticated", responses((status = 200)))]
async fn authenticated(_user: User) {}

#[public]
#[utoipa::path(post, path = "/token", responses((status = 200)))]
async fn token() {}

/// Guarded, but left out of the document.
#[requires(scopes = ["read"])]
async fn undocumented(_user: User) {}

#[derive(OpenApi)]
#[openapi(paths(requires_above, requires_below, either, authenticated, token))]
struct Doc;

fn document() -> (utoipa::openapi::OpenApi, Result<(), scopes_runtime::openapi::UnlinkedRoutes>) {
    let (_router, table) = SecureRouter::<AppState>::new()
        .route("/above", get(requires_above))
        .route("/below", get(requires_below))
        .route("/either", post(either))
        .route("/authenticated", get(authenticated))
        .route("/token", post(token))
        .route("/undocumented", get(undocumented).post(requires_above))
        .into_parts();
    let mut document = Doc::openapi();
    let linked =
        scopes_runtime::openapi::secure(&mut document, &SCOPE_REGISTRY, &scopes_runtime::ResponseStyle::Seed, &table);
    (document, linked)
}

fn operation(document: &utoipa::openapi::OpenApi, method: &str, path: &str) -> Value {
    serde_json::to_value(document).unwrap()["paths"][path][method].clone()
}

#[test]
fn operations_are_linked_by_method_and_path_whatever_their_id() {
    let (document, _) = document();
    assert_eq!(operation(&document, "get", "/above")["security"], json!([{"OAuth2": ["read"]}]));
    assert_eq!(operation(&document, "get", "/below")["security"], json!([{"OAuth2": ["read"]}]));
    assert_eq!(operation(&document, "get", "/authenticated")["security"], json!([{"OAuth2": []}]));
    assert_eq!(operation(&document, "post", "/token")["security"], Value::Null, "public routes stay open");
}

#[test]
fn an_expression_is_an_or_of_ands_with_the_guard_in_each() {
    let (document, _) = document();
    assert_eq!(
        operation(&document, "post", "/either")["security"],
        json!([{"OAuth2": ["write", "me"]}, {"OAuth2": ["admin", "read", "me"]}])
    );
}

#[test]
fn scope_descriptions_say_what_each_implies_transitively() {
    let (document, _) = document();
    let json = serde_json::to_value(&document).unwrap();
    let scopes = &json["components"]["securitySchemes"]["OAuth2"]["flows"]["password"]["scopes"];
    assert_eq!(scopes["read"], "Read things.");
    assert_eq!(scopes["write"], "Write things. Implies: read.");
    assert_eq!(scopes["admin"], "Everything. Implies: read, write.");
}

#[test]
fn a_guarded_route_missing_from_the_document_is_reported_not_left_unsecured() {
    let (_, linked) = document();
    let unlinked = linked.expect_err("the undocumented routes cannot be linked");
    assert_eq!(unlinked.routes, ["GET /undocumented", "POST /undocumented"]);
    assert!(unlinked.to_string().contains("security would be missing"), "{unlinked}");
}

#[test]
fn guarded_operations_document_401() {
    let (document, _) = document();
    let unauthorized = &operation(&document, "get", "/above")["responses"]["401"];
    assert_eq!(unauthorized["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorDetail");
}

/// The app's own error body, which happens to share a name with the framework's seed-style one.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct ErrorDetail {
    code: u32,
    reason: String,
}

/// An operation of the app's own, outside the secure router's table.
#[utoipa::path(
    get,
    path = "/legacy",
    responses(
        (status = 200),
        (status = 404, body = ErrorDetail),
        (status = 422, description = "The app's own validation error", body = ErrorDetail),
    )
)]
#[allow(dead_code)]
async fn legacy() {}

#[derive(OpenApi)]
#[openapi(paths(requires_above, legacy))]
struct AppDoc;

/// In the RFC style `secure` restyles the framework's refusals, and only on the routes of its table: the
/// app's other operations keep their 422 and their bodies, and a schema named like one of the framework's
/// but of the app's own making is not deleted.
#[test]
fn the_rfc_style_touches_only_the_tables_routes_and_the_frameworks_own_schemas() {
    let (_router, table) = SecureRouter::<AppState>::new().route("/above", get(requires_above)).into_parts();
    let mut document = AppDoc::openapi();
    let before = operation(&document, "get", "/legacy");
    scopes_runtime::openapi::secure(&mut document, &SCOPE_REGISTRY, &scopes_runtime::ResponseStyle::default(), &table)
        .expect("every guarded route is documented");
    assert_eq!(operation(&document, "get", "/legacy"), before, "the app's operation is untouched");
    let json = serde_json::to_value(&document).unwrap();
    let app_schema = &json["components"]["schemas"]["ErrorDetail"];
    assert_eq!(app_schema["required"], json!(["code", "reason"]), "the app's schema stays: {app_schema}");
    let refused = &operation(&document, "get", "/above")["responses"]["403"];
    assert_eq!(refused["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/OAuthError");
}

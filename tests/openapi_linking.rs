//! How `#[requires]` handlers are linked to their OpenAPI operations, in either attribute order, and what
//! happens when a guarded handler cannot be linked: it is reported, never silently left unsecured.

use axum::extract::FromRef;
use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
use serde_json::{Value, json};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

scopes_runtime::registry! {
    scheme = "OAuth2",
    token_url = "token",
    scopes = { "read" => "Read things." },
}

#[derive(Clone, FromRef)]
struct AppState {
    authority: Authority,
}

struct User;

impl Principal<AppState> for User {
    async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> {
        Ok(User)
    }
}

/// `#[requires]` above `#[utoipa::path]` sees a custom `operation_id` and registers under it.
#[requires(scopes = ["read"])]
#[utoipa::path(get, path = "/above", operation_id = "readAbove", responses((status = 200)))]
async fn requires_above(_user: User) {}

/// Below a `#[utoipa::path]` with the default operation id (the function name), the order does not matter.
#[utoipa::path(get, path = "/below", responses((status = 200)))]
#[requires(scopes = ["read"])]
async fn requires_below(_user: User) {}

/// Below a `#[utoipa::path]` that renames the operation, `#[requires]` cannot see the new id.
#[utoipa::path(get, path = "/renamed", operation_id = "renamedBelow", responses((status = 200)))]
#[requires(scopes = ["read"])]
async fn requires_below_renamed(_user: User) {}

/// Authentication only: an empty scope list.
#[requires]
#[utoipa::path(get, path = "/authenticated", responses((status = 200)))]
async fn authenticated(_user: User) {}

#[derive(OpenApi)]
struct Doc;

fn document() -> (utoipa::openapi::OpenApi, Result<(), scopes_runtime::openapi::UnlinkedHandlers>) {
    let (_router, mut document) = OpenApiRouter::<AppState>::with_openapi(Doc::openapi())
        .routes(routes!(requires_above))
        .routes(routes!(requires_below))
        .routes(routes!(requires_below_renamed))
        .routes(routes!(authenticated))
        .split_for_parts();
    let linked = scopes_runtime::openapi::secure(&mut document, &SCOPE_REGISTRY, &scopes_runtime::ResponseStyle::Seed);
    (document, linked)
}

fn security(document: &utoipa::openapi::OpenApi, path: &str) -> Value {
    serde_json::to_value(document).unwrap()["paths"][path]["get"]["security"].clone()
}

#[test]
fn both_orders_link_by_operation_id() {
    let (document, _) = document();
    assert_eq!(security(&document, "/above"), json!([{"OAuth2": ["read"]}]));
    assert_eq!(security(&document, "/below"), json!([{"OAuth2": ["read"]}]));
    assert_eq!(security(&document, "/authenticated"), json!([{"OAuth2": []}]));
}

#[test]
fn a_renamed_operation_below_requires_is_reported_not_left_unsecured() {
    let (document, linked) = document();
    let unlinked = linked.expect_err("the renamed handler cannot be linked");
    let named: Vec<&String> = unlinked.handlers.iter().filter(|h| h.contains("requires_below_renamed")).collect();
    assert_eq!(named.len(), 1, "{unlinked}");
    assert!(unlinked.to_string().contains("security would be missing"), "{unlinked}");
    assert!(!unlinked.handlers.iter().any(|h| h.contains("::requires_above ") || h.contains("::authenticated ")));
    assert_eq!(security(&document, "/renamed"), Value::Null);
}

#[test]
fn guarded_operations_document_401() {
    let (document, _) = document();
    let json = serde_json::to_value(&document).unwrap();
    let unauthorized = &json["paths"]["/below"]["get"]["responses"]["401"];
    assert_eq!(unauthorized["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorDetail");
}

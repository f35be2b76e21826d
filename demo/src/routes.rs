//! The seed's four endpoints and the demo's two more, documented where they are declared, and the app
//! that serves them.
//!
//! The router is a `SecureRouter`: every handler is `#[requires(...)]` or `#[public]`, or the demo does
//! not compile. Security is never written twice: `#[requires]` and the guards are the single source; the
//! router's route table reports it (`demo routes`) and `scopes_runtime::openapi::secure` puts it in the
//! document, refusing to start if a guarded route is missing from it.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::response::Response;
use axum::{Json, Router};
use scopes_runtime::health::HealthBody;
use scopes_runtime::openapi::{ErrorDetail, ValidationErrorBody};
use scopes_runtime::routing::{RouteTable, SecureRouter, get, post};
use scopes_runtime::{
    AccountStore, AuthError, PasswordRequestForm, ResponseStyle, describing::IssuerMetadata,
    describing::ProtectedResourceMetadata, issuing::ClientAddress, issuing::RevocationRequest, issuing::TokenRequest,
    issuing::TokenRequestProof, issuing::TokenResponse, public, requires, verifying::ProviderMetadata,
};
use serde::Serialize;
use utoipa::openapi::OpenApi as OpenApiDocument;
use utoipa::{OpenApi, ToSchema};

use crate::auth::ActiveUser;
use crate::compat::FastApiCompat;
use crate::items::{self, Item};
use crate::users::User;
use crate::{AppState, docs};

/// `POST /token`: the password grant, and with a database the refresh-token grant. Grants the requested
/// scopes that are declared and that the user is allowed; throttles repeated failed logins.
#[utoipa::path(
    post,
    path = "/token",
    summary = "Login For Access Token",
    request_body(content = PasswordRequestForm, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Successful Response", body = TokenResponse),
        (status = 400, description = "Incorrect username or password, or an invalid refresh token; in the RFC style any RFC 6749 §5.2 error", body = ErrorDetail),
        (status = 413, description = "Request body too large", body = ErrorDetail),
        (status = 422, description = "Validation Error (seed style)", body = ValidationErrorBody),
        (status = 429, description = "Too many failed logins, or a refresh token's family rotated too often this minute; see `Retry-After`", body = ErrorDetail),
        (status = 503, description = "Too many logins waiting for a password check, or the user database is unavailable; see `Retry-After`", body = ErrorDetail),
    )
)]
#[public]
pub async fn login_for_access_token(
    State(state): State<AppState>,
    client: ClientAddress,
    proof: TokenRequestProof,
    request: TokenRequest,
) -> Response {
    let (Some(tokens), Some(users)) = (state.tokens(), state.users()) else {
        // Not routed when users come from a provider; answered as any unknown path would be.
        return crate::compat::not_found();
    };
    // With `--dpop`, a request carrying a proof gets tokens bound to the client's key.
    tokens.grant_with_proof(client, proof, request, users).await
}

/// The fields of a token request, for either grant, as the document shows them when refresh tokens are
/// issued (the seed's `TokenRequest` shows the password grant's alone).
#[derive(ToSchema)]
#[schema(as = TokenRequest, description = "A token request: the password grant (RFC 6749 §4.3) or the refresh-token grant (§6).")]
pub struct RefreshableTokenRequest {
    /// `password` (the default) or `refresh_token`.
    #[schema(pattern = "^(password|refresh_token)$")]
    pub grant_type: Option<String>,
    /// The password grant's username.
    #[schema(min_length = 1, max_length = 256)]
    pub username: Option<String>,
    /// The password grant's password.
    #[schema(format = Password, min_length = 1)]
    pub password: Option<String>,
    /// The refresh-token grant's refresh token, as the last answer gave it.
    #[schema(min_length = 1, max_length = 512)]
    pub refresh_token: Option<String>,
    /// The requested scopes, space-separated; with a refresh token, a subset of those first granted.
    #[schema(default = "", required = false)]
    pub scope: String,
    /// The client identifier, if the client sends one.
    pub client_id: Option<String>,
    /// The client secret, if the client sends one.
    #[schema(format = Password)]
    pub client_secret: Option<String>,
}

/// The token request when refresh tokens are issued: every field either grant may send (the properties
/// Swagger UI's form shows), and each grant as it is, one of: the password grant, requiring `username` and
/// `password` as the seed's request does (and `grant_type` too when read `strict`ly, as RFC 6749 says),
/// or the refresh-token grant, requiring `grant_type=refresh_token` and `refresh_token`.
fn token_request_schema(strict: bool) -> utoipa::openapi::RefOr<utoipa::openapi::Schema> {
    use utoipa::openapi::schema::{AllOfBuilder, ObjectBuilder, OneOfBuilder, Type};
    let grant = |title: &str, grant_type: &str, required: &[&str]| {
        let grant_type = ObjectBuilder::new().schema_type(Type::String).enum_values(Some([grant_type]));
        let branch = ObjectBuilder::new().title(Some(title)).property("grant_type", grant_type);
        required.iter().fold(branch, |branch, field| branch.required(*field)).build()
    };
    let password = if strict { &["grant_type", "username", "password"][..] } else { &["username", "password"][..] };
    let grants = OneOfBuilder::new()
        .item(grant("The password grant (RFC 6749 §4.3)", "password", password))
        .item(grant("The refresh-token grant (RFC 6749 §6)", "refresh_token", &["grant_type", "refresh_token"]));
    AllOfBuilder::new()
        .description(Some("A token request: the password grant (RFC 6749 §4.3) or the refresh-token grant (§6)."))
        .item(<RefreshableTokenRequest as utoipa::PartialSchema>::schema())
        .item(grants)
        .into()
}

/// The fields of a revocation request (RFC 7009 §2.1).
#[derive(ToSchema)]
#[schema(as = RevocationRequest)]
pub struct RevocationFields {
    /// The token to revoke: a refresh token (with its whole family, and the access tokens issued from it), or
    /// an access token.
    #[schema(min_length = 1)]
    pub token: String,
    /// `refresh_token` or `access_token`.
    pub token_type_hint: Option<String>,
}

/// `POST /revoke`: revokes a refresh token, every token rotated from the same login and the access tokens
/// issued from them, or one access token (RFC 7009); every replica refuses them within 5 s. An unknown
/// token is answered 200 too, as the RFC says. With `--introspection-client-id`, the token is revoked at
/// the provider and forgotten by this replica's introspection cache at once.
#[utoipa::path(
    post,
    path = "/revoke",
    summary = "Revoke Token",
    request_body(content = RevocationFields, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "Revoked, or not a token this server knows", body = Object),
        (status = 400, description = "No `token`, or a repeated field (RFC style)", body = ErrorDetail),
        (status = 413, description = "Request body too large", body = ErrorDetail),
        (status = 422, description = "Validation Error (seed style)", body = ValidationErrorBody),
        (status = 503, description = "The database is unavailable; see `Retry-After`", body = ErrorDetail),
    )
)]
#[public]
pub async fn revoke_token(State(state): State<AppState>, request: RevocationRequest) -> Response {
    if let Some(introspection) = state.authority.introspection() {
        // The provider's token: revoked there, and forgotten here at once.
        return match introspection.revoke(&request.token).await {
            Ok(()) => axum::Json(serde_json::json!({})).into_response(),
            Err(_) => state
                .authority
                .refuse(&AuthError::ServiceUnavailable { retry_after: std::time::Duration::from_secs(1) }),
        };
    }
    match (state.tokens(), state.users()) {
        (Some(tokens), Some(users)) if users.refresh_tokens().is_some() => tokens.revoke(request, users).await,
        _ => crate::compat::not_found(),
    }
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
    Json(vec![Item { item_id: "Foo".into(), owner: user.username }])
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
pub async fn read_all_users(_admin: ActiveUser, State(state): State<AppState>) -> Result<Json<Vec<String>>, AuthError> {
    match state.users() {
        Some(users) => Ok(Json(users.usernames().await?)),
        None => Ok(Json(Vec::new())),
    }
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
pub async fn read_item_report(_user: User, State(state): State<AppState>) -> Result<Json<ItemReport>, AuthError> {
    let users = match state.users() {
        Some(users) => users.usernames().await?.len(),
        None => 0,
    };
    Ok(Json(ItemReport { users, items: users }))
}

/// `GET /healthz`: liveness. 200 while the process answers; asks no dependency.
#[utoipa::path(
    get,
    path = "/healthz",
    summary = "Liveness",
    responses((status = 200, description = "The process answers", body = HealthBody))
)]
#[public]
pub async fn healthz() -> Response {
    scopes_runtime::health::liveness().await
}

/// `GET /readyz`: readiness. 200 when the identity provider's keys are in hand (with `--issuer`) and the
/// database and Redis (as configured) answer; 503 with each check's result otherwise.
#[utoipa::path(
    get,
    path = "/readyz",
    summary = "Readiness",
    responses(
        (status = 200, description = "Ready: every check passed", body = HealthBody),
        (status = 503, description = "Not ready: the checks say which dependency is missing; see `Retry-After`", body = HealthBody),
    )
)]
#[public]
pub async fn readyz(State(state): State<AppState>) -> Response {
    state.readiness.check().await.into_response()
}

#[derive(OpenApi)]
#[openapi(
    info(title = "scopes demo", description = "FastAPI's OAuth2-scopes tutorial app, on the scopes framework."),
    paths(
        login_for_access_token,
        revoke_token,
        read_users_me,
        read_own_items,
        read_system_status,
        read_all_users,
        read_item_report,
        items::create_item,
        items::list_items,
        items::read_item,
        items::delete_item,
        healthz,
        readyz
    )
)]
struct ApiDoc;

/// `GET /.well-known/oauth-protected-resource`: this API's protected-resource metadata (RFC 9728), when
/// its tokens come from a provider.
#[public]
pub async fn protected_resource_metadata(State(state): State<AppState>) -> Response {
    match &state.accounts {
        crate::Accounts::Provider { resource, .. } => {
            let metadata = ProtectedResourceMetadata::new(resource, &state.authority, &crate::SCOPE_REGISTRY);
            Json(metadata).into_response()
        }
        crate::Accounts::Local { .. } => crate::compat::not_found(),
    }
}

/// `GET /.well-known/jwks.json`: the public keys of the issuer's key ring (`--signing-alg`), every one
/// still published; cacheable for a minute (a verifier meeting a new `kid` fetches again).
#[public]
pub async fn json_web_key_set(State(state): State<AppState>) -> Response {
    match state.authority.key_ring() {
        Some(ring) => ([(header::CACHE_CONTROL, "public, max-age=60")], Json(ring.jwks())).into_response(),
        None => crate::compat::not_found(),
    }
}

/// `GET /.well-known/openid-configuration`: the issuer's discovery document (`--signing-alg`), naming
/// `/revoke` and the refresh-token grant when the database keeps refresh tokens.
#[public]
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let Some(mut metadata) = IssuerMetadata::new(&state.authority, &crate::SCOPE_REGISTRY) else {
        return crate::compat::not_found();
    };
    if state.users().is_some_and(|users| users.refresh_tokens().is_some()) {
        metadata = metadata.with_revocation("/revoke", &["password", "refresh_token"]);
    }
    ([(header::CACHE_CONTROL, "public, max-age=60")], Json(metadata)).into_response()
}

/// `/authorize`: named by the discovery document, as OpenID Connect Discovery requires, but this issuer
/// has no interactive login: every request is refused (RFC 6749 §4.1.2.1; with no registered redirect
/// URI, the error is answered here rather than redirected).
#[public]
pub async fn authorize() -> Response {
    let body = serde_json::json!({
        "error": "unsupported_response_type",
        "error_description": "this issuer has no interactive login: get tokens at /token with the password grant",
    });
    (StatusCode::BAD_REQUEST, [(header::CACHE_CONTROL, "no-store")], Json(body)).into_response()
}

/// Where the API's tokens come from, for its routes and documentation.
#[derive(Debug, Clone, Default)]
// One per app, built once: its variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
pub enum TokenSource {
    /// Its own `/token`, the seed's password grant alone.
    #[default]
    Own,
    /// Its own `/token`, with more than the seed's.
    Issuer(IssuerFeatures),
    /// An identity provider: no `/token`; the security scheme at the provider's endpoints; the
    /// protected-resource metadata served; Swagger UI logging in at the provider as `docs_client_id`.
    /// With `introspecting`, tokens are introspected at the provider, and `/revoke` revokes them there.
    Provider { issuer: String, metadata: Option<ProviderMetadata>, docs_client_id: Option<String>, introspecting: bool },
}

/// What the demo's own token endpoint does beyond the seed's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IssuerFeatures {
    /// The database keeps refresh tokens: `/token` serves the refresh-token grant, `/revoke` is routed.
    pub refresh_tokens: bool,
    /// Tokens are signed with published key pairs (`--signing-alg`): the key set and discovery are served.
    pub published_keys: bool,
}

impl TokenSource {
    /// The demo's own tokens with `features`: the seed's source when it has none.
    pub fn own(features: IssuerFeatures) -> Self {
        if features == IssuerFeatures::default() { TokenSource::Own } else { TokenSource::Issuer(features) }
    }

    /// Where `state`'s tokens come from, with its providers' metadata as last discovered.
    pub fn of(state: &AppState) -> Self {
        match &state.accounts {
            crate::Accounts::Local { users, .. } => TokenSource::own(IssuerFeatures {
                refresh_tokens: users.refresh_tokens().is_some(),
                published_keys: state.authority.key_ring().is_some(),
            }),
            crate::Accounts::Provider { docs_client_id, .. } => TokenSource::Provider {
                issuer: state
                    .authority
                    .trusted_issuers()
                    .first()
                    .map(|issuer| (*issuer).to_owned())
                    .unwrap_or_default(),
                metadata: state.authority.provider_metadata().into_iter().next().flatten(),
                docs_client_id: docs_client_id.clone(),
                introspecting: state.authority.introspection().is_some(),
            },
        }
    }
}

/// The API's routes, each `#[requires(...)]` or `#[public]`, and who may call each.
pub fn secure_routes() -> SecureRouter<AppState> {
    secure_routes_for(&TokenSource::Own)
}

/// The API's routes for tokens from `source`: `/token` for its own (with `/revoke`, the key set and
/// discovery as its features say), the protected-resource metadata for a provider's.
pub fn secure_routes_for(source: &TokenSource) -> SecureRouter<AppState> {
    let routes = match source {
        TokenSource::Own => SecureRouter::new().route("/token", post(login_for_access_token)),
        TokenSource::Issuer(features) => {
            let mut routes = SecureRouter::new().route("/token", post(login_for_access_token));
            if features.refresh_tokens {
                routes = routes.route("/revoke", post(revoke_token));
            }
            if features.published_keys {
                routes = routes
                    .route(IssuerMetadata::JWKS_PATH, get(json_web_key_set))
                    .route(IssuerMetadata::PATH, get(openid_configuration))
                    .route(IssuerMetadata::AUTHORIZATION_PATH, get(authorize).post(authorize));
            }
            routes
        }
        TokenSource::Provider { introspecting, .. } => {
            let routes = SecureRouter::new().route(ProtectedResourceMetadata::PATH, get(protected_resource_metadata));
            if *introspecting { routes.route("/revoke", post(revoke_token)) } else { routes }
        }
    };
    routes
        .route("/users/me/", get(read_users_me))
        .route("/users/me/items/", get(read_own_items))
        .route("/status/", get(read_system_status))
        .route("/admin/users/", get(read_all_users))
        .route("/reports/items/", get(read_item_report))
        .route("/items/", post(items::create_item).get(items::list_items))
        .route("/items/{item_id}", get(items::read_item).delete(items::delete_item))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
}

/// The API's routes, its OpenAPI document (security and refusals as `style` answers them included), and
/// the route table of the API and its documentation.
///
/// # Panics
/// When a guarded route has no operation in the document: its security would be missing from the docs.
/// That is a mistake in this file, found at start-up (and by the tests) before any request.
pub fn api(
    style: &ResponseStyle,
    source: &TokenSource,
    dpop: Option<&scopes_runtime::verifying::dpop::Dpop>,
) -> (Router<AppState>, OpenApiDocument, RouteTable) {
    let (api, api_table) = secure_routes_for(source).into_parts();
    let mut document = ApiDoc::openapi();
    let mut login = docs::SwaggerLogin::default();
    let refresh_tokens = matches!(source, TokenSource::Issuer(IssuerFeatures { refresh_tokens: true, .. }));
    if !refresh_tokens {
        // The seed's document: the password grant alone.
        document.paths.paths.remove("/revoke");
        if let Some(components) = document.components.as_mut() {
            components.schemas.remove("RevocationRequest");
        }
    } else if let Some(components) = document.components.as_mut() {
        let strict = crate::request_parsing_for(style).is_strict();
        components.schemas.insert(RefreshableTokenRequest::name().into_owned(), token_request_schema(strict));
    }
    if let TokenSource::Provider { issuer, metadata, docs_client_id, .. } = source {
        // Tokens come from the provider: the document has no `/token`, and its scheme is the provider's.
        document.paths.paths.remove("/token");
        if let Some(components) = document.components.as_mut() {
            components.schemas.remove("TokenRequest");
            components.schemas.remove("TokenResponse");
        }
        let scheme =
            scopes_runtime::openapi::provider_security_scheme(&crate::SCOPE_REGISTRY, issuer, metadata.as_ref());
        login = docs::SwaggerLogin { client_id: docs_client_id.clone(), scheme: Some(scheme) };
    }
    if let Err(unlinked) = scopes_runtime::openapi::secure(&mut document, &crate::SCOPE_REGISTRY, style, &api_table) {
        panic!("{unlinked}");
    }
    if let Some(dpop) = dpop {
        scopes_runtime::openapi::document_dpop(&mut document, dpop, &api_table);
    }
    if refresh_tokens {
        // Swagger UI's password flow learns where tokens are refreshed.
        let scheme =
            document.components.as_mut().and_then(|c| c.security_schemes.get_mut(crate::SCOPE_REGISTRY.scheme()));
        if let Some(utoipa::openapi::RefOr::T(utoipa::openapi::security::SecurityScheme::OAuth2(oauth2))) = scheme {
            for flow in oauth2.flows.values_mut() {
                if let utoipa::openapi::security::Flow::Password(password) = flow {
                    password.refresh_url = crate::SCOPE_REGISTRY.token_url().map(str::to_owned);
                }
            }
        }
    }
    if let Some(scheme) = login.scheme.clone() {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(crate::SCOPE_REGISTRY.scheme(), scheme);
    }
    // The document reaches the docs routes as an extension layered on them alone: a layer over the whole
    // router would cost every API request an insertion into its extensions.
    let (docs, docs_table) = docs::routes(SecureRouter::new()).into_parts();
    let docs = docs
        .layer(axum::Extension(std::sync::Arc::new(document.clone())))
        .layer(axum::Extension(std::sync::Arc::new(login)));
    (api.merge(docs), document, api_table.merge(docs_table))
}

/// The OpenAPI document alone, for refusals answered in `style` and tokens from `source`, as
/// `demo openapi` prints it.
pub fn openapi(style: &ResponseStyle, source: &TokenSource) -> OpenApiDocument {
    api(style, source, None).1
}

/// Every route with its method, path and effective requirement, as `demo routes` prints it.
pub fn route_table(source: &TokenSource) -> RouteTable {
    api(&ResponseStyle::Seed, source, None).2
}

/// The demo app: the API with FastAPI's redirect, 404 and 405 behaviour, its document at
/// [`docs::OPENAPI_PATH`] and Swagger UI at [`docs::DOCS_PATH`].
pub fn router(state: AppState) -> Router {
    let (api, document, _) = api(state.authority.response_style(), &TokenSource::of(&state), state.authority.dpop());
    let compat = FastApiCompat::from_document(&document, &[docs::DOCS_PATH, docs::OPENAPI_PATH]);
    compat.wrap(api.with_state(state))
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::{Request, StatusCode};
    use scopes_runtime::testing::{Minter, assert_refused, authorized, scopes};
    use tower::ServiceExt;

    use super::*;

    fn johndoe() -> User {
        User {
            username: "johndoe".into(),
            email: Some("johndoe@example.com".into()),
            full_name: Some("John Doe".into()),
            disabled: Some(false),
            account: None,
        }
    }

    #[tokio::test]
    async fn the_handlers_bodies_answer_for_the_principal_they_are_given() {
        let Json(items) = read_own_items(authorized(ActiveUser(johndoe()))).await;
        assert_eq!(items[0].owner, "johndoe");
        let Json(me) = read_users_me(authorized(ActiveUser(johndoe()))).await;
        assert_eq!(me, johndoe());
        let Json(status) = read_system_status(authorized(johndoe())).await;
        assert_eq!(status.status, "ok");
    }

    #[tokio::test]
    async fn refusals_name_what_would_have_been_enough() {
        let state = AppState::seed(b"the demo's unit-test secret, 32+ bytes").unwrap();
        let minter = Minter::new(&state.authority);
        let app = router(state);
        let get = |path: &str, token: String| {
            Request::get(path).header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap()
        };
        // The seed answers 401 with the requirement's scopes, handler's first, then the guard's.
        let only_me = app.clone().oneshot(get("/users/me/items/", minter.token("johndoe", scopes!["me"]))).await;
        assert_refused(&only_me.unwrap(), StatusCode::UNAUTHORIZED, &["items me"]);
        let report = app.clone().oneshot(get("/reports/items/", minter.token("johndoe", scopes!["me"]))).await;
        assert_refused(&report.unwrap(), StatusCode::UNAUTHORIZED, &["reports", "admin"]);
        let expired = app.clone().oneshot(get("/users/me/", minter.expired("johndoe", scopes!["me"]))).await;
        assert_refused(&expired.unwrap(), StatusCode::UNAUTHORIZED, &["me"]);
        let admin = app.oneshot(get("/users/me/items/", minter.token("johndoe", scopes!["admin"]))).await.unwrap();
        assert_eq!(admin.status(), StatusCode::OK, "admin implies items:write, which implies items, and me");
    }

    const AUDIENCE: &str = "https://api.example";

    /// A fake identity provider, and the demo in issuer mode for its tokens (audience [`AUDIENCE`]).
    async fn provider_app() -> (scopes_runtime::testing::FakeProvider, Router) {
        let provider = scopes_runtime::testing::FakeProvider::start().await;
        let authority = scopes_runtime::Authority::from_providers([provider.provider()], AUDIENCE).unwrap();
        assert!(authority.wait_for_keys(std::time::Duration::from_secs(5)).await);
        (provider, router(AppState::for_provider(authority, "http://127.0.0.1:8000", None)))
    }

    #[tokio::test]
    async fn in_issuer_mode_an_items_owner_is_the_tokens_subject() {
        let (provider, app) = provider_app().await;
        let send = |method: &str, path: &str, subject: &str, scopes: [&str; 1], body: Option<&str>| {
            let token = provider.token(subject, scopes, AUDIENCE);
            let request = Request::builder()
                .method(method)
                .uri(path)
                .header("authorization", format!("Bearer {token}"))
                .header("content-type", "application/json");
            app.clone().oneshot(request.body(Body::from(body.unwrap_or_default().to_owned())).unwrap())
        };
        let created = send("POST", "/items/", "ann", scopes!["items:write"], Some(r#"{"item_id": "x"}"#)).await;
        assert_eq!(created.unwrap().status(), StatusCode::CREATED);
        let read = send("GET", "/items/x", "ann", scopes!["items"], None).await.unwrap();
        let body = axum::body::to_bytes(read.into_body(), 1 << 16).await.unwrap();
        assert_eq!(body, r#"{"item_id":"x","owner":"ann"}"#);
        let refused = send("GET", "/items/x", "bob", scopes!["items"], None).await.unwrap();
        assert_eq!(refused.status(), StatusCode::NOT_FOUND, "another subject's item is not disclosed");
        let by_admin = send("DELETE", "/items/x", "root", scopes!["admin"], None).await.unwrap();
        assert_eq!(by_admin.status(), StatusCode::NO_CONTENT);
    }

    #[tokio::test]
    async fn in_issuer_mode_the_user_is_who_the_providers_token_says() {
        let (provider, app) = provider_app().await;
        let get = |token: String| {
            Request::get("/users/me/").header("authorization", format!("Bearer {token}")).body(Body::empty()).unwrap()
        };
        let signed = provider.sign(&serde_json::json!({
            "iss": provider.issuer(), "aud": AUDIENCE, "sub": "ann", "scope": "me", "name": "Ann", "exp": 4102444800u64,
        }));
        let me = app.clone().oneshot(get(signed)).await.unwrap();
        assert_eq!(me.status(), StatusCode::OK);
        let body = axum::body::to_bytes(me.into_body(), 1 << 16).await.unwrap();
        let user: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(user, serde_json::json!({"username": "ann", "email": null, "full_name": "Ann", "disabled": false}));

        // The provider rotates and retires the old key: its tokens stop verifying once the set is refetched.
        let before = provider.token("ann", scopes!["me"], AUDIENCE);
        provider.rotate();
        provider.retire_old_keys();
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
        let after = provider.token("ann", scopes!["me"], AUDIENCE);
        assert_eq!(app.clone().oneshot(get(after)).await.unwrap().status(), StatusCode::OK);
        let retired = app.oneshot(get(before)).await.unwrap();
        // The RFC style (the library default) names no scope in an `invalid_token` challenge.
        assert_refused(&retired, StatusCode::UNAUTHORIZED, &[]);
    }
}

//! The OpenAPI document at `/openapi.json` and Swagger UI at `/docs`, all served from the binary.
//!
//! The page is FastAPI's: served at `/docs` itself (no redirect to `/docs/`), so the document's relative
//! token URL `token` resolves to `/token` when the Authorize dialog logs in, as it does for the seed.
//! Its scripts and styles are the vendored Swagger UI of utoipa-swagger-ui, under `/docs/`.

use std::sync::{Arc, LazyLock};

use axum::Json;
use axum::extract::{Extension, Path};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use scopes_runtime::public;
use scopes_runtime::routing::{SecureRouter, get};
use serde_json::json;
use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::Config;

/// Where the document is served, and where Swagger UI is.
pub const OPENAPI_PATH: &str = "/openapi.json";
pub const DOCS_PATH: &str = "/docs";

/// `routes` with the document, the Swagger UI page and its assets, all public. The document comes from
/// an `Extension<Arc<OpenApi>>` layered on these routes, since it is built from the API's route table.
pub fn routes<S: Clone + Send + Sync + 'static>(routes: SecureRouter<S>) -> SecureRouter<S> {
    routes
        .route(OPENAPI_PATH, get(openapi_document))
        .route(DOCS_PATH, get(swagger_ui))
        .route(&format!("{DOCS_PATH}/"), get(swagger_ui_redirect))
        .route(&format!("{DOCS_PATH}/{{*file}}"), get(swagger_ui_file))
}

#[public]
async fn openapi_document(Extension(document): Extension<Arc<OpenApi>>) -> Json<OpenApi> {
    Json(document.as_ref().clone())
}

/// How Swagger UI's Authorize dialog logs in when tokens come from a provider: as `client_id`, with the
/// authorization code flow and PKCE, at the provider's endpoints (in `scheme`). The default is the
/// seed's password flow at `/token`.
#[derive(Clone, Default)]
pub struct SwaggerLogin {
    pub client_id: Option<String>,
    pub scheme: Option<utoipa::openapi::security::SecurityScheme>,
}

#[public]
async fn swagger_ui(Extension(login): Extension<Arc<SwaggerLogin>>) -> Html<String> {
    Html(swagger_ui_page(&login))
}

/// FastAPI's trailing-slash redirect, for the page too.
#[public]
async fn swagger_ui_redirect() -> Redirect {
    Redirect::temporary(DOCS_PATH)
}

#[public]
async fn swagger_ui_file(Path(file): Path<String>) -> Response {
    static CONFIG: LazyLock<Arc<Config<'static>>> = LazyLock::new(|| Arc::new(Config::new([OPENAPI_PATH])));
    asset(&file, CONFIG.clone())
}

fn swagger_ui_page(login: &SwaggerLogin) -> String {
    // `initOAuth` only when a client is configured: the seed's page has none. Values go through JSON, so
    // nothing configured can end the script.
    let (redirect, init_oauth) = match &login.client_id {
        Some(client_id) => (
            format!("\n    oauth2RedirectUrl: window.location.origin + '{DOCS_PATH}/oauth2-redirect.html',"),
            format!(
                "ui.initOAuth({{ clientId: {}, usePkceWithAuthorizationCodeGrant: true }})\n",
                json!(client_id).to_string().replace('<', "\\u003c")
            ),
        ),
        None => (String::new(), String::new()),
    };
    format!(
        r#"<!DOCTYPE html>
<html>
<head>
<link type="text/css" rel="stylesheet" href="{DOCS_PATH}/swagger-ui.css">
<link rel="icon" type="image/png" href="{DOCS_PATH}/favicon-32x32.png">
<title>scopes demo - Swagger UI</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{DOCS_PATH}/swagger-ui-bundle.js"></script>
<script>
const ui = SwaggerUIBundle({{
    url: '{OPENAPI_PATH}',
    dom_id: '#swagger-ui',
    layout: 'BaseLayout',
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],{redirect}
}})
{init_oauth}</script>
</body>
</html>
"#
    )
}

fn asset(file: &str, config: Arc<Config<'static>>) -> Response {
    match utoipa_swagger_ui::serve(file, config) {
        Ok(Some(file)) => {
            let mut response = file.bytes.into_owned().into_response();
            if let Ok(content_type) = HeaderValue::from_str(&file.content_type) {
                response.headers_mut().insert(header::CONTENT_TYPE, content_type);
            }
            if file.gzpipped {
                response.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            response
        }
        Ok(None) => crate::compat::not_found(),
        Err(error) => {
            tracing::error!(%error, file, "serving a Swagger UI file");
            (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "detail": "Internal Server Error" }))).into_response()
        }
    }
}

//! Swagger UI through a [`SecureRouter`]: utoipa-swagger-ui's page and its document, with every route in
//! the route report (a plain `SwaggerUi` router would be one opaque line, or none at all).

use std::borrow::Cow;

use utoipa::openapi::OpenApi;
use utoipa_swagger_ui::oauth;

use crate::routing::{Route, SecureRouter};

/// Swagger UI at a path, and the OpenAPI document it shows at another, as public routes of a
/// [`SecureRouter`] that reports each of them: the page, its trailing-slash form, its assets (utoipa-
/// swagger-ui's vendored copy, from the binary) and the document. Merge it into the app's router.
///
/// ```
/// use scopes_runtime::openapi::SwaggerUi;
/// use scopes_runtime::routing::SecureRouter;
/// use utoipa::openapi::OpenApiBuilder;
///
/// let document = OpenApiBuilder::new().build(); // secured with `openapi::secure_for`, typically
/// let app = SecureRouter::<()>::new().merge(SwaggerUi::new("/docs", "/openapi.json", document));
/// assert_eq!(
///     app.table().to_string(),
///     "GET /openapi.json  public\nGET /docs          public\nGET /docs/         public\nGET /docs/{*rest}  public\n"
/// );
/// ```
///
/// In issuer mode, the Authorize dialog logs in at the provider: give it the API's client with
/// [`oauth`](Self::oauth) (utoipa-swagger-ui's `oauth::Config`, e.g. `client_id` and PKCE).
#[derive(Clone)]
pub struct SwaggerUi {
    path: String,
    openapi_path: String,
    document: OpenApi,
    oauth: Option<oauth::Config>,
}

impl std::fmt::Debug for SwaggerUi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The OAuth configuration may hold a client secret.
        f.debug_struct("SwaggerUi")
            .field("path", &self.path)
            .field("openapi_path", &self.openapi_path)
            .finish_non_exhaustive()
    }
}

impl SwaggerUi {
    /// Swagger UI at `path` (e.g. `/docs`, redirecting to `/docs/`), showing `document`, itself served at
    /// `openapi_path` (e.g. `/openapi.json`).
    pub fn new(path: impl Into<String>, openapi_path: impl Into<String>, document: OpenApi) -> Self {
        SwaggerUi { path: path.into(), openapi_path: openapi_path.into(), document, oauth: None }
    }

    /// How the Authorize dialog logs in (utoipa-swagger-ui's `initOAuth`): the client id, PKCE, scopes.
    ///
    /// ```
    /// use scopes_runtime::openapi::SwaggerUi;
    /// use utoipa_swagger_ui::oauth;
    ///
    /// let login = oauth::Config::new().client_id("notes-docs").use_pkce_with_authorization_code_grant(true);
    /// let docs = SwaggerUi::new("/docs", "/openapi.json", utoipa::openapi::OpenApiBuilder::new().build()).oauth(login);
    /// # let _ = docs;
    /// ```
    pub fn oauth(mut self, oauth: oauth::Config) -> Self {
        self.oauth = Some(oauth);
        self
    }
}

impl<S: Clone + Send + Sync + 'static> From<SwaggerUi> for SecureRouter<S> {
    fn from(docs: SwaggerUi) -> Self {
        let path = docs.path.trim_end_matches('/').to_owned();
        // What utoipa-swagger-ui routes for a path other than `/`: the document, the page's redirect, the
        // page, its assets. The root path has no redirect.
        let mut served = vec![docs.openapi_path.clone()];
        if !path.is_empty() {
            served.push(path.clone());
        }
        served.extend([format!("{path}/"), format!("{path}/{{*rest}}")]);
        let mut ui = utoipa_swagger_ui::SwaggerUi::new(Cow::Owned(docs.path)).url(docs.openapi_path, docs.document);
        if let Some(oauth) = docs.oauth {
            ui = ui.oauth(oauth);
        }
        let reported = served.iter().map(|path| Route::public("GET", path)).collect();
        SecureRouter::new().public_merge_reported(ui, reported)
    }
}

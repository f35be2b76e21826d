//! OpenAPI security from the registry and the `#[requires]` handlers, on utoipa's model.
//!
//! [`secure`] adds to a document (typically the one an app already builds with utoipa) the OAuth2
//! password-flow security scheme with every declared scope, its description and what it implies, and
//! gives each operation of a guarded route of a [`SecureRouter`](crate::routing::SecureRouter) its
//! effective requirement: the handler's and each guard's, as an OR of ANDs (OpenAPI's list of security
//! requirements), exactly as enforced. Nothing is restated by hand: the scopes come from the code that
//! checks them.

use std::fmt;

use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{
    AuthorizationCode, ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, OpenIdConnect, Password, Scopes,
    SecurityRequirement, SecurityScheme,
};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::answering::style::ResponseStyle;
use crate::authority::Authority;
use crate::issuing::form::PasswordRequestForm;
use crate::registry::{Assurance, DpopMode, Refusal, Registry, RuleAccess, Scope};
use crate::routing::{Access, FALLBACK, RouteTable};
use crate::verifying::ProviderMetadata;
use crate::verifying::dpop::Dpop;

#[cfg(feature = "swagger-ui")]
pub use super::swagger_ui::SwaggerUi;

/// The JSON body of every refusal: `{"detail": "..."}`.
#[derive(Debug, Clone, ToSchema)]
#[allow(dead_code)] // documents the body `AuthError` writes; never constructed
pub struct ErrorDetail {
    /// What went wrong, e.g. `Not enough permissions`.
    detail: String,
}

/// The JSON body of a 422: `{"detail": [...]}`, one entry per problem, as FastAPI writes it.
#[derive(Debug, Clone, ToSchema)]
#[schema(as = HTTPValidationError)]
#[allow(dead_code)] // documents the body `AuthError::InvalidForm` writes; never constructed
pub struct ValidationErrorBody {
    /// Every problem found in the request.
    detail: Vec<crate::answering::error::ValidationIssue>,
}

/// The JSON body of an RFC-style refusal (RFC 6750 §3, RFC 6749 §5.2).
#[derive(Debug, Clone, ToSchema)]
#[schema(as = OAuthError)]
#[allow(dead_code)] // documents the body the RFC style writes; never constructed
pub struct OAuthErrorBody {
    /// The error code, e.g. `invalid_token`; absent when no credentials were sent.
    error: Option<String>,
    /// What went wrong, in words.
    error_description: String,
    /// The scopes that would have been accepted (`insufficient_scope`): the first set that would be enough.
    scope: Option<String>,
    /// Every set that would be enough, when there are several (`insufficient_scope`).
    scope_alternatives: Option<Vec<String>>,
}

/// The registry's security scheme: OAuth2's password flow at the token URL, with every declared scope.
/// A scope that implies others says so in its description (`Administer everything. Implies: me, items.`).
/// A registry without `token_url` (tokens issued elsewhere) gets an HTTP bearer scheme whose description
/// lists the scopes, since OAuth2 needs a flow's endpoints; in issuer mode, [`secure_for`] documents the
/// provider's flows instead.
///
/// ```
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = {
///         "me" => "Read information about the current user.",
///         "admin" => "Administer everything." implies ["me"],
///     },
/// }
/// # fn main() {
/// let scheme = scopes_runtime::openapi::security_scheme(&SCOPE_REGISTRY);
/// let json = serde_json::to_value(&scheme).unwrap();
/// assert_eq!(json["flows"]["password"]["tokenUrl"], "token");
/// assert_eq!(json["flows"]["password"]["scopes"]["me"], "Read information about the current user.");
/// assert_eq!(json["flows"]["password"]["scopes"]["admin"], "Administer everything. Implies: me.");
/// # }
/// ```
pub fn security_scheme(registry: &Registry) -> SecurityScheme {
    match registry.token_url() {
        Some(token_url) => {
            SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(token_url, described_scopes(registry)))]))
        }
        None => {
            let scopes: Vec<String> =
                registry.scopes().iter().map(|scope| format!("`{}`: {}", scope.name, described(scope))).collect();
            let description = format!("A bearer token issued elsewhere, carrying scopes: {}", scopes.join("; "));
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(description))
                    .build(),
            )
        }
    }
}

/// The whole security of `doc` for `authority`, in one call: [`secure`] in the authority's
/// [response style](crate::Authority::response_style), the scheme its tokens come from under the
/// registry's scheme name, and its DPoP setting ([`document_dpop`]).
///
/// The scheme matches the authority: an app that issues its own tokens gets the registry's password flow
/// at its `token_url` ([`security_scheme`]); an authority of [providers](crate::Authority::from_providers)
/// gets the first provider's flows, from its discovery document as last read
/// ([`provider_security_scheme`]: call [`Authority::wait_for_keys`](crate::Authority::wait_for_keys) first
/// to have it); one that [introspects](crate::Authority::from_introspection) gets its issuer's OpenID
/// Connect discovery. Returns the guarded routes the document does not contain, as [`secure`] does.
///
/// ```
/// use scopes_runtime::Authority;
/// use scopes_runtime::routing::RouteTable;
/// use utoipa::openapi::OpenApiBuilder;
///
/// scopes_runtime::registry! { scheme = "OAuth2", scopes = { "notes" => "Read notes." } } // no `token_url`
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let provider = scopes_runtime::verifying::Provider::discover("https://auth.example");
/// let authority = Authority::from_providers([provider], "https://api.example").unwrap();
/// let mut doc = OpenApiBuilder::new().build();
/// scopes_runtime::openapi::secure_for(&mut doc, &SCOPE_REGISTRY, &authority, &RouteTable::default()).unwrap();
/// let json = serde_json::to_value(&doc).unwrap();
/// // Not discovered yet: the provider's discovery document, which a client reads for itself.
/// assert_eq!(
///     json["components"]["securitySchemes"]["OAuth2"]["openIdConnectUrl"],
///     "https://auth.example/.well-known/openid-configuration"
/// );
/// # }
/// ```
pub fn secure_for(
    doc: &mut OpenApi,
    registry: &Registry,
    authority: &Authority,
    routes: &RouteTable,
) -> Result<(), UnlinkedRoutes> {
    let linked = secure(doc, registry, authority.response_style(), routes);
    if let Some(dpop) = authority.dpop() {
        document_dpop(doc, dpop, routes);
    }
    let issuer_elsewhere = match (authority.provider_metadata().into_iter().next(), authority.introspection()) {
        (Some(metadata), _) => authority.trusted_issuers().first().map(|issuer| (issuer.to_string(), metadata)),
        (None, Some(introspection)) => Some((introspection.issuer().to_owned(), None)),
        (None, None) => None,
    };
    if let Some((issuer, metadata)) = issuer_elsewhere {
        let scheme = provider_security_scheme(registry, &issuer, metadata.as_ref());
        doc.components.get_or_insert_with(Default::default).add_security_scheme(registry.scheme(), scheme);
    }
    linked
}

/// The security scheme of an API whose tokens come from the provider at `issuer`: OAuth2 with the
/// authorization code flow (which Swagger UI runs with PKCE) and the client credentials flow, each where
/// the provider's `metadata` says it offers it, at its endpoints, with the registry's scopes. Without
/// metadata (the provider not discovered yet) or with neither flow, `openIdConnect` at the issuer's
/// discovery document, which a client reads for itself. Put it in the document after [`secure`], under
/// the registry's scheme name.
///
/// ```
/// use scopes_runtime::verifying::ProviderMetadata;
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
/// # fn main() {
/// let metadata: ProviderMetadata = serde_json::from_value(serde_json::json!({
///     "issuer": "https://auth.example",
///     "jwks_uri": "https://auth.example/jwks",
///     "authorization_endpoint": "https://auth.example/auth",
///     "token_endpoint": "https://auth.example/token",
///     "grant_types_supported": ["authorization_code", "client_credentials"],
/// })).unwrap();
/// let scheme = scopes_runtime::openapi::provider_security_scheme(&SCOPE_REGISTRY, "https://auth.example", Some(&metadata));
/// let json = serde_json::to_value(&scheme).unwrap();
/// assert_eq!(json["flows"]["authorizationCode"]["authorizationUrl"], "https://auth.example/auth");
/// assert_eq!(json["flows"]["clientCredentials"]["tokenUrl"], "https://auth.example/token");
/// assert_eq!(json["flows"]["clientCredentials"]["scopes"]["me"], "Read information about the current user.");
///
/// let undiscovered = scopes_runtime::openapi::provider_security_scheme(&SCOPE_REGISTRY, "https://auth.example/", None);
/// let json = serde_json::to_value(&undiscovered).unwrap();
/// assert_eq!(json["openIdConnectUrl"], "https://auth.example/.well-known/openid-configuration");
/// # }
/// ```
pub fn provider_security_scheme(
    registry: &Registry,
    issuer: &str,
    metadata: Option<&ProviderMetadata>,
) -> SecurityScheme {
    let mut flows = Vec::new();
    if let Some(metadata) = metadata
        && let Some(token_url) = &metadata.token_endpoint
    {
        if let Some(authorization_url) = &metadata.authorization_endpoint
            && metadata.supports_grant("authorization_code")
        {
            flows.push(Flow::AuthorizationCode(AuthorizationCode::new(
                authorization_url,
                token_url,
                described_scopes(registry),
            )));
        }
        if metadata.supports_grant("client_credentials") {
            flows.push(Flow::ClientCredentials(ClientCredentials::new(token_url, described_scopes(registry))));
        }
    }
    if flows.is_empty() {
        let discovery = format!("{}/.well-known/openid-configuration", issuer.trim_end_matches('/'));
        return SecurityScheme::OpenIdConnect(OpenIdConnect::new(discovery));
    }
    SecurityScheme::OAuth2(OAuth2::new(flows))
}

/// Every scope of the registry with its description; one that implies others says so.
fn described_scopes(registry: &Registry) -> Scopes {
    let described: Vec<(&str, String)> = registry.scopes().iter().map(|scope| (scope.name, described(scope))).collect();
    Scopes::from_iter(described.iter().map(|(name, description)| (*name, description.as_str())))
}

/// A scope's description, with what it implies when it implies others.
fn described(scope: &Scope) -> String {
    match scope.implies {
        [] => scope.description.to_owned(),
        implied => format!("{} Implies: {}.", scope.description, implied.join(", ")),
    }
}

/// Guarded routes that [`secure`] found no operation for in the document: their security would be
/// missing from the docs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlinkedRoutes {
    /// `METHOD path` of each.
    pub routes: Vec<String>,
}

impl fmt::Display for UnlinkedRoutes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "guarded routes with no operation in the OpenAPI document (their security would be missing): {}",
            self.routes.join(", ")
        )
    }
}

impl std::error::Error for UnlinkedRoutes {}

/// Adds the registry's security scheme to `doc`, and to the operation of every guarded route of `routes`
/// (matched by method and path) its security requirements and the refusals it can answer, as `style`
/// writes them.
///
/// A route whose requirement has alternatives gets one security requirement per alternative (OpenAPI
/// reads the list as "any of"); an authentication-only route gets an empty scope list; public routes keep
/// their security as they are. In the RFC style, the operations of the table's routes refer to the RFC body
/// ([`OAuthErrorBody`]) where they referred to the framework's seed-style ones ([`ErrorDetail`],
/// [`ValidationErrorBody`]), and answer 400 where they documented 422, since that is what the style
/// answers; those schemas are then dropped if they are this crate's and nothing refers to them. The app's
/// other operations and schemas are left as they are. A custom style documents nothing beyond the
/// security. Returns the guarded routes the document does not contain.
///
/// ```
/// use scopes_runtime::ResponseStyle;
/// use scopes_runtime::routing::RouteTable;
/// use utoipa::openapi::OpenApiBuilder;
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
/// # fn main() {
/// let mut doc = OpenApiBuilder::new().build();
/// let routes = RouteTable::default();
/// scopes_runtime::openapi::secure(&mut doc, &SCOPE_REGISTRY, &ResponseStyle::default(), &routes).unwrap();
/// let components = doc.components.unwrap();
/// assert!(components.security_schemes.contains_key("OAuth2PasswordBearer"));
/// # }
/// ```
pub fn secure(
    doc: &mut OpenApi,
    registry: &Registry,
    style: &ResponseStyle,
    routes: &RouteTable,
) -> Result<(), UnlinkedRoutes> {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(registry.scheme(), security_scheme(registry));
    let refusals: &[(&str, &str)] = match style {
        ResponseStyle::Seed => {
            components.schemas.insert(ErrorDetail::name().into_owned(), <ErrorDetail as PartialSchema>::schema());
            &[("401", UNAUTHORIZED)]
        }
        ResponseStyle::Rfc { .. } => {
            components.schemas.insert(OAuthErrorBody::name().into_owned(), <OAuthErrorBody as PartialSchema>::schema());
            &[("400", MALFORMED), ("401", UNAUTHORIZED), ("403", FORBIDDEN)]
        }
        ResponseStyle::Custom(_) => &[],
    };
    let body_schema = match style {
        ResponseStyle::Rfc { .. } => "OAuthError",
        _ => "ErrorDetail",
    };

    let rfc = matches!(style, ResponseStyle::Rfc { .. });
    let mut linked = vec![false; routes.routes().len()];
    let mut needs_error_detail = false;
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations_mut(item) {
            // Only the routes in the table are ours to document; the app's other operations stay as written.
            let Some(index) = routes.routes().iter().position(|route| route.serves(method, path)) else {
                continue;
            };
            linked[index] = true;
            if rfc {
                restyle_as_rfc(operation);
            }
            let access = &routes.routes()[index].access;
            let Some(alternatives) = access.alternatives() else { continue };
            operation.security = Some(
                alternatives.into_iter().map(|scopes| SecurityRequirement::new(registry.scheme(), scopes)).collect(),
            );
            if let Some(rule) = access.rule() {
                document_rule(operation, access, rule, body_schema);
                needs_error_detail = true;
            }
            let assurance = &routes.routes()[index].assurance;
            if !assurance.is_none() {
                document_assurance(operation, assurance);
            }
            for (status, description) in refusals {
                operation
                    .responses
                    .responses
                    .entry((*status).into())
                    .or_insert_with(|| error_response(description, body_schema));
            }
        }
    }
    if needs_error_detail {
        // A rule's 404 is `{"detail": ...}` in every style.
        let components = doc.components.get_or_insert_with(Default::default);
        components
            .schemas
            .entry(ErrorDetail::name().into_owned())
            .or_insert_with(<ErrorDetail as PartialSchema>::schema);
    }
    if rfc {
        drop_superseded_schemas(doc);
        // RFC 6749 §4.3.2: the strict styles require `grant_type`; only in the schema of this crate's form.
        let ours = <PasswordRequestForm as PartialSchema>::schema();
        if let Some(components) = doc.components.as_mut()
            && let Some(schema) = components.schemas.get_mut("TokenRequest")
            && *schema == ours
            && let RefOr::T(Schema::Object(form)) = schema
            && !form.required.iter().any(|field| field == "grant_type")
        {
            form.required.insert(0, "grant_type".into());
        }
    }

    let unlinked: Vec<String> = routes
        .routes()
        .iter()
        .zip(linked)
        // A fallback has no path to document.
        .filter(|(route, linked)| !linked && route.path != FALLBACK && route.access.is_guarded())
        .map(|(route, _)| format!("{} {}", route.method, route.path))
        .collect();
    if unlinked.is_empty() { Ok(()) } else { Err(UnlinkedRoutes { routes: unlinked }) }
}

const MALFORMED: &str = "Malformed credentials (`invalid_request`): several `Authorization` headers, or a token that \
                         is empty, oversized or not a `b64token`";
const UNAUTHORIZED: &str = "Not authenticated (no bearer token), could not validate credentials (invalid, expired or \
                            unknown token), or (seed style) not enough permissions";
const FORBIDDEN: &str = "Not enough permissions (`insufficient_scope`, with the required `scope`), or an inactive user";

/// States `dpop`, an authority's DPoP setting ([`Authority::with_dpop`](crate::Authority::with_dpop)), on
/// every guarded operation of `routes` whose route has no DPoP mode of its own: `x-scopes-assurance` gains
/// `dpop` (`allowed` or `required`) and the description a sentence. Nothing for [`DpopMode::Off`]. Call it
/// after [`secure`].
///
/// ```
/// use scopes_runtime::ResponseStyle;
/// use scopes_runtime::routing::RouteTable;
/// use scopes_runtime::verifying::dpop::{Dpop, DpopMode};
/// use utoipa::openapi::OpenApiBuilder;
/// # scopes_runtime::registry! { scheme = "OAuth2", token_url = "token", scopes = {} }
/// # fn main() {
/// let mut doc = OpenApiBuilder::new().build();
/// let routes = RouteTable::default();
/// let dpop = Dpop::new(DpopMode::Required, "https://api.example").unwrap();
/// scopes_runtime::openapi::secure(&mut doc, &SCOPE_REGISTRY, &ResponseStyle::default(), &routes).unwrap();
/// scopes_runtime::openapi::document_dpop(&mut doc, &dpop, &routes);
/// # }
/// ```
pub fn document_dpop(doc: &mut OpenApi, dpop: &Dpop, routes: &RouteTable) {
    let mode = dpop.mode();
    if mode == DpopMode::Off {
        return;
    }
    let sentence = match mode {
        DpopMode::Required => format!(
            "Takes DPoP-bound tokens only (RFC 9449): `Authorization: DPoP <token>` with a `DPoP` proof signed with \
             one of {}.",
            dpop.algs()
        ),
        _ => format!(
            "Takes DPoP-bound tokens (RFC 9449) beside bearer tokens: `Authorization: DPoP <token>` with a `DPoP` \
             proof signed with one of {}.",
            dpop.algs()
        ),
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        for (method, operation) in operations_mut(item) {
            let Some(route) = routes.routes().iter().find(|route| route.serves(method, path)) else { continue };
            if !route.access.is_guarded() || route.assurance.dpop.is_some() {
                continue;
            }
            operation.description = Some(match operation.description.take() {
                Some(written) if !written.is_empty() => format!("{written}\n\n{sentence}"),
                _ => sentence.clone(),
            });
            let extensions = operation.extensions.get_or_insert_with(Default::default);
            let assurance = extensions.entry("x-scopes-assurance".into()).or_insert_with(|| serde_json::json!({}));
            assurance["dpop"] = mode.as_str().into();
        }
    }
}

/// What an operation whose `#[requires]` asks more than scopes adds to its document: a sentence in its
/// description, and `x-scopes-assurance` with the route's DPoP mode (RFC 9449), `acr_values`, `min_acr`
/// and `max_age` (RFC 9470), those it asks.
fn document_assurance(operation: &mut Operation, assurance: &Assurance) {
    let mut sentence = format!("Asks of its token: {assurance}.");
    if assurance.asks_authentication() {
        sentence.push_str(
            " A token that falls short is answered 401 `insufficient_user_authentication`, the challenge naming \
             `acr_values` and `max_age` (RFC 9470).",
        );
    }
    operation.description = Some(match operation.description.take() {
        Some(written) if !written.is_empty() => format!("{written}\n\n{sentence}"),
        _ => sentence,
    });
    let mut extension = serde_json::Map::new();
    if let Some(dpop) = assurance.dpop {
        extension.insert("dpop".into(), dpop.as_str().into());
    }
    if !assurance.acr.is_empty() {
        extension.insert("acr_values".into(), assurance.acr.into());
    }
    if let Some(min_acr) = assurance.min_acr {
        extension.insert("min_acr".into(), min_acr.into());
    }
    if let Some(max_age) = assurance.max_age {
        extension.insert("max_age".into(), max_age.into());
    }
    let extensions = operation.extensions.get_or_insert_with(Default::default);
    extensions.insert("x-scopes-assurance".into(), serde_json::Value::Object(extension));
}

/// What an operation with a resource rule adds to its document: the rule's name and alternatives as
/// `x-scopes-rule`, a sentence in its description, and the status its refusal (and a missing resource) is
/// answered with.
fn document_rule(operation: &mut Operation, access: &Access, rule: &RuleAccess, refusal_schema: &str) {
    let refused_as = match rule.refusal {
        Refusal::NotFound => "404, as a missing resource, so that a refusal does not disclose that it exists",
        Refusal::Forbidden => "403",
    };
    let sentence = format!(
        "Requires {access}, where `{}` is a resource rule: {} A refusal by the rule is answered {refused_as}.",
        rule.name, rule.description
    );
    operation.description = Some(match operation.description.take() {
        Some(written) if !written.is_empty() => format!("{written}\n\n{sentence}"),
        _ => sentence,
    });
    let extension = serde_json::json!({
        "name": rule.name,
        "description": rule.description,
        "expression": access.to_string(),
        "refusal": rule.refusal.status(),
        "ruled_alternatives": rule.ruled,
        // Each scope set that is enough, and whether the rule must pass too.
        "alternatives": access.alternatives_with_rule().unwrap_or_default().into_iter()
            .map(|(scopes, ruled)| serde_json::json!({ "scopes": scopes, "rule": ruled }))
            .collect::<Vec<_>>(),
    });
    operation.extensions.get_or_insert_with(Default::default).insert("x-scopes-rule".into(), extension);
    let responses = &mut operation.responses.responses;
    let not_found = match rule.refusal {
        Refusal::NotFound => {
            format!("{}, or refused by the `{}` rule (answered as missing)", rule.not_found, rule.name)
        }
        Refusal::Forbidden => rule.not_found.to_owned(),
    };
    responses.entry("404".into()).or_insert_with(|| error_response(&not_found, "ErrorDetail"));
    if rule.refusal == Refusal::Forbidden {
        let refused = format!("Refused by the `{}` rule", rule.name);
        responses.entry("403".into()).or_insert_with(|| error_response(&refused, refusal_schema));
    }
}

/// The statuses the RFC style answers with an OAuth error body; an app's other refusals (a 404, a 409)
/// keep their `{"detail": ...}`.
const RFC_ERROR_STATUSES: &[&str] = &["400", "401", "403", "413", "429", "503"];

/// The RFC style answers every refusal with an `OAuthError` body and never with 422: rewrite the
/// framework's seed-style error responses an operation documents.
fn restyle_as_rfc(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    if let Some(validation) = responses.remove("422") {
        responses.entry("400".into()).or_insert(validation);
    }
    for (status, response) in responses.iter_mut() {
        if !RFC_ERROR_STATUSES.contains(&status.as_str()) {
            continue;
        }
        let RefOr::T(response) = response else { continue };
        for content in response.content.values_mut() {
            let RefOr::T(content) = content else { continue };
            let refers_to_seed_body = matches!(&content.schema, Some(RefOr::Ref(r))
                if ["ErrorDetail", "HTTPValidationError"].iter().any(|name| r.ref_location.ends_with(&format!("/{name}"))));
            if refers_to_seed_body {
                content.schema = Some(Ref::from_schema_name("OAuthError").into());
            }
        }
    }
}

/// Removes the seed-style error schemas the RFC restyling no longer refers to, each only where it is this
/// crate's own (an app's schema of the same name stays) and nothing in the document refers to it still.
fn drop_superseded_schemas(doc: &mut OpenApi) {
    let superseded = [
        ("ErrorDetail", <ErrorDetail as PartialSchema>::schema()),
        ("HTTPValidationError", <ValidationErrorBody as PartialSchema>::schema()),
        ("ValidationError", <crate::answering::error::ValidationIssue as PartialSchema>::schema()),
    ];
    for (name, ours) in superseded {
        let is_ours = doc.components.as_ref().and_then(|c| c.schemas.get(name)).is_some_and(|schema| *schema == ours);
        // Serialized once per name, at start-up: the simplest complete search for references.
        let referenced = || serde_json::to_string(doc).is_ok_and(|json| json.contains(&format!("/schemas/{name}\"")));
        if is_ours
            && !referenced()
            && let Some(components) = doc.components.as_mut()
        {
            components.schemas.remove(name);
        }
    }
}

fn error_response(description: &str, schema: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name(schema))).build())
        .build()
        .into()
}

/// Each operation of a path item with its method, upper case as HTTP writes it.
fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = (&str, &mut Operation)> {
    [
        ("GET", &mut item.get),
        ("PUT", &mut item.put),
        ("POST", &mut item.post),
        ("DELETE", &mut item.delete),
        ("OPTIONS", &mut item.options),
        ("HEAD", &mut item.head),
        ("PATCH", &mut item.patch),
        ("TRACE", &mut item.trace),
        ("QUERY", &mut item.query),
    ]
    .into_iter()
    .filter_map(|(method, operation)| operation.as_mut().map(|operation| (method, operation)))
    .chain(item.additional_operations.iter_mut().map(|(method, operation)| (method.as_str(), operation)))
}

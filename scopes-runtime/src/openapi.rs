//! OpenAPI security from the registry and the `#[requires]` handlers, on utoipa's model.
//!
//! [`secure`] adds to a document (typically the one an app already builds with utoipa) the OAuth2
//! password-flow security scheme with every declared scope and its description, and gives each
//! operation of a `#[requires]` handler its effective scopes: the handler's own, then each guard's,
//! exactly as enforced. Nothing is restated by hand: the scopes come from the code that checks them.

use std::collections::BTreeMap;
use std::fmt;

use utoipa::ToSchema;
use utoipa::openapi::path::{Operation, PathItem};
use utoipa::openapi::security::{Flow, OAuth2, Password, Scopes, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

use crate::__private::HandlerSecurity;
use crate::Registry;

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
    detail: Vec<crate::ValidationIssue>,
}

/// The registry's security scheme: OAuth2's password flow at the token URL, with every declared scope.
///
/// ```
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
/// # fn main() {
/// let scheme = scopes_runtime::openapi::security_scheme(&SCOPE_REGISTRY);
/// let json = serde_json::to_value(&scheme).unwrap();
/// assert_eq!(json["flows"]["password"]["tokenUrl"], "token");
/// assert_eq!(json["flows"]["password"]["scopes"]["me"], "Read information about the current user.");
/// # }
/// ```
pub fn security_scheme(registry: &Registry) -> SecurityScheme {
    let scopes = Scopes::from_iter(registry.scopes().iter().map(|scope| (scope.name, scope.description)));
    SecurityScheme::OAuth2(OAuth2::new([Flow::Password(Password::new(registry.token_url(), scopes))]))
}

/// `#[requires]` handlers that [`secure`] could not match to an operation of the document.
///
/// A handler is matched by its operation id: the function name, or the `operation_id` of a
/// `#[utoipa::path]` written *below* `#[requires]`. An entry here is a guarded handler whose security the
/// document does not show: document it, or put `#[requires]` above a `#[utoipa::path]` that renames it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnlinkedHandlers {
    /// `module::handler (operation id)` of each.
    pub handlers: Vec<String>,
}

impl fmt::Display for UnlinkedHandlers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`#[requires]` handlers with no operation in the OpenAPI document (their security would be missing): {}",
            self.handlers.join(", ")
        )
    }
}

impl std::error::Error for UnlinkedHandlers {}

/// Adds the registry's security scheme to `doc`, and to every operation of a `#[requires]` handler its
/// security requirement and a 401 response.
///
/// An authentication-only handler gets an empty scope list; operations of other handlers (a token
/// endpoint, say) are left as they are. Returns the guarded handlers the document does not contain.
///
/// ```
/// use utoipa::openapi::OpenApiBuilder;
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
/// # fn main() {
/// let mut doc = OpenApiBuilder::new().build();
/// scopes_runtime::openapi::secure(&mut doc, &SCOPE_REGISTRY).unwrap();
/// let components = doc.components.unwrap();
/// assert!(components.security_schemes.contains_key("OAuth2PasswordBearer"));
/// # }
/// ```
pub fn secure(doc: &mut OpenApi, registry: &Registry) -> Result<(), UnlinkedHandlers> {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(registry.scheme(), security_scheme(registry));
    components.schemas.insert(ErrorDetail::name().into_owned(), <ErrorDetail as utoipa::PartialSchema>::schema());

    let mut by_operation_id: BTreeMap<&str, (&HandlerSecurity, bool)> = BTreeMap::new();
    for handler in inventory::iter::<HandlerSecurity> {
        by_operation_id.insert(handler.operation_id, (handler, false));
    }
    for item in doc.paths.paths.values_mut() {
        for operation in operations_mut(item) {
            let Some(entry) = operation.operation_id.as_deref().and_then(|id| by_operation_id.get_mut(id)) else {
                continue;
            };
            entry.1 = true;
            let scopes = (entry.0.scopes)();
            operation.security = Some(vec![SecurityRequirement::new(registry.scheme(), scopes)]);
            operation.responses.responses.entry("401".into()).or_insert_with(unauthorized_response);
        }
    }

    let unlinked: Vec<String> = by_operation_id
        .values()
        .filter(|(_, linked)| !linked)
        .map(|(handler, _)| format!("{}::{} ({})", handler.module, handler.handler, handler.operation_id))
        .collect();
    if unlinked.is_empty() { Ok(()) } else { Err(UnlinkedHandlers { handlers: unlinked }) }
}

fn unauthorized_response() -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(
            "Not authenticated (no bearer token), could not validate credentials (invalid, expired or \
             unknown token), or not enough permissions (a required scope is missing)",
        )
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorDetail"))).build())
        .build()
        .into()
}

fn operations_mut(item: &mut PathItem) -> impl Iterator<Item = &mut Operation> {
    [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.options,
        &mut item.head,
        &mut item.patch,
        &mut item.trace,
        &mut item.query,
    ]
    .into_iter()
    .flatten()
    .chain(item.additional_operations.values_mut())
}

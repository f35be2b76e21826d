//! OAuth 2.0 Protected Resource Metadata (RFC 9728): what a client needs to know to call this API: which
//! authorization servers issue its tokens, which scopes it understands, how the token is sent.

use serde::Serialize;

use crate::authority::Authority;
use crate::registry::Registry;
use crate::verifying::dpop::DpopMode;

/// This API's protected-resource metadata, served at [`PATH`](Self::PATH) under its origin (or as
/// [`url_for`](Self::url_for) says, for an API under a path). Pair it with
/// [`Authority::with_resource_metadata`], which names it in every challenge.
///
/// ```
/// use scopes_runtime::{Authority, describing::ProtectedResourceMetadata};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user.", "items" => "Read items." },
/// }
/// # fn main() {
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_issuer("https://auth.example");
/// let metadata = ProtectedResourceMetadata::new("https://api.example", &authority, &SCOPE_REGISTRY);
/// assert_eq!(
///     serde_json::to_value(&metadata).unwrap(),
///     serde_json::json!({
///         "resource": "https://api.example",
///         "authorization_servers": ["https://auth.example"],
///         "scopes_supported": ["me", "items"],
///         "bearer_methods_supported": ["header"],
///     })
/// );
/// assert_eq!(
///     ProtectedResourceMetadata::url_for("https://api.example/v1"),
///     "https://api.example/.well-known/oauth-protected-resource/v1"
/// );
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ProtectedResourceMetadata {
    /// The resource identifier: the URL clients reach this API at.
    pub resource: String,
    /// The issuers of the tokens this API accepts (omitted when it names none).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub authorization_servers: Vec<String>,
    /// Every scope of the registry.
    pub scopes_supported: Vec<String>,
    /// How the token is sent: in the `Authorization` header only (RFC 6750 §2.1).
    pub bearer_methods_supported: Vec<String>,
    /// The algorithms DPoP proofs may use (RFC 9449 §5.1), where DPoP-bound tokens are taken.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_signing_alg_values_supported: Option<Vec<String>>,
    /// Whether every token must be DPoP-bound (RFC 9728 §2): said only where DPoP is on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dpop_bound_access_tokens_required: Option<bool>,
}

impl ProtectedResourceMetadata {
    /// Where the metadata of a resource at an origin's root is served (RFC 9728 §3).
    pub const PATH: &'static str = "/.well-known/oauth-protected-resource";

    /// The metadata of the API at `resource`, whose tokens `authority` verifies, with `registry`'s scopes,
    /// and its DPoP setting ([`Authority::with_dpop`]).
    ///
    /// ```
    /// use scopes_runtime::{Authority, describing::ProtectedResourceMetadata};
    /// use scopes_runtime::verifying::dpop::{Dpop, DpopMode};
    /// # scopes_runtime::registry! { scheme = "OAuth2", token_url = "token", scopes = {} }
    /// # fn main() {
    /// let dpop = Dpop::new(DpopMode::Required, "https://api.example").unwrap().with_algorithms([jsonwebtoken::Algorithm::ES256]);
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_dpop(dpop);
    /// let metadata = serde_json::to_value(ProtectedResourceMetadata::new("https://api.example", &authority, &SCOPE_REGISTRY)).unwrap();
    /// assert_eq!(metadata["dpop_bound_access_tokens_required"], true);
    /// assert_eq!(metadata["dpop_signing_alg_values_supported"], serde_json::json!(["ES256"]));
    /// # }
    /// ```
    pub fn new(resource: impl Into<String>, authority: &Authority, registry: &Registry) -> Self {
        let dpop = authority.dpop().filter(|dpop| dpop.mode() != DpopMode::Off);
        ProtectedResourceMetadata {
            resource: resource.into(),
            authorization_servers: authority.trusted_issuers().into_iter().map(str::to_owned).collect(),
            scopes_supported: registry.scopes().iter().map(|scope| scope.name.to_owned()).collect(),
            bearer_methods_supported: vec!["header".into()],
            dpop_signing_alg_values_supported: dpop.map(|dpop| dpop.algs().split(' ').map(str::to_owned).collect()),
            dpop_bound_access_tokens_required: dpop.map(|dpop| dpop.mode() == DpopMode::Required),
        }
    }

    /// The URL of the metadata of the resource at `resource` (RFC 9728 §3.1): the well-known path between
    /// the origin and the resource's own path, so two APIs on one origin each have theirs.
    pub fn url_for(resource: &str) -> String {
        match url::Url::parse(resource) {
            Ok(url) if url.has_host() => {
                let path = url.path().trim_end_matches('/');
                format!("{}{}{path}", url.origin().ascii_serialization(), Self::PATH)
            }
            _ => format!("{}{}", resource.trim_end_matches('/'), Self::PATH),
        }
    }
}

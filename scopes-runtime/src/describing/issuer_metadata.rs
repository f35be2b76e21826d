//! An issuer's discovery document: OpenID Connect Discovery 1.0 (`/.well-known/openid-configuration`),
//! whose members are also RFC 8414's, so verifiers find its keys (`jwks_uri`) and clients its endpoints.

use serde::Serialize;

use crate::authority::Authority;
use crate::registry::TokenUrl;

/// The discovery document of the issuer whose tokens `authority` signs with a [`KeyRing`](crate::keys::KeyRing),
/// served at [`PATH`](Self::PATH) under the issuer URL; its key set at [`JWKS_PATH`](Self::JWKS_PATH).
///
/// It has every member OpenID Connect Discovery requires. This issuer has no interactive login: its
/// `authorization_endpoint` refuses every request (`unsupported_response_type`), so
/// `response_types_supported` is empty; tokens come from the token endpoint's grants, and
/// `id_token_signing_alg_values_supported` names the algorithm its tokens are signed with.
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::{Authority, describing::IssuerMetadata, keys::KeyRing, keys::SigningAlgorithm, keys::SigningKey};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let stored = vec![SigningKey::generate(SigningAlgorithm::Es256).unwrap()];
/// let load = move || { let keys = stored.clone(); async move { Ok(keys) } };
/// let ring = KeyRing::load(load, Duration::from_secs(1800), Duration::from_secs(10)).await.unwrap();
/// let authority = Authority::from_key_ring(ring, "https://auth.example", "https://api.example");
/// let metadata = IssuerMetadata::new(&authority, &SCOPE_REGISTRY).unwrap();
/// assert_eq!(metadata.issuer, "https://auth.example");
/// assert_eq!(metadata.jwks_uri, "https://auth.example/.well-known/jwks.json");
/// assert_eq!(metadata.token_endpoint, "https://auth.example/token");
/// assert_eq!(metadata.id_token_signing_alg_values_supported, ["ES256"]);
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct IssuerMetadata {
    /// The issuer identifier: the `iss` of its tokens, and the prefix of this document's URL.
    pub issuer: String,
    /// An endpoint that refuses every authorization request: this issuer has no interactive login.
    pub authorization_endpoint: String,
    /// Where tokens are issued.
    pub token_endpoint: String,
    /// Where its public keys are published.
    pub jwks_uri: String,
    /// Where refresh tokens are revoked (RFC 7009), if it issues them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revocation_endpoint: Option<String>,
    /// Every scope of the registry.
    pub scopes_supported: Vec<String>,
    /// None: see the type's documentation.
    pub response_types_supported: Vec<String>,
    /// The token endpoint's grants.
    pub grant_types_supported: Vec<String>,
    /// `public`: a token's `sub` is the username, the same for every client.
    pub subject_types_supported: Vec<String>,
    /// The algorithm of the current signing key.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// `none`: clients are public (the password grant's clients, Swagger UI).
    pub token_endpoint_auth_methods_supported: Vec<String>,
}

impl IssuerMetadata {
    /// Where the document is served, under the issuer URL.
    pub const PATH: &'static str = "/.well-known/openid-configuration";
    /// Where the key set is served, under the issuer URL.
    pub const JWKS_PATH: &'static str = "/.well-known/jwks.json";
    /// Where the refusing authorization endpoint is served, under the issuer URL.
    pub const AUTHORIZATION_PATH: &'static str = "/authorize";

    /// The document of `authority`'s issuer, with `registry`'s scopes and its token endpoint at the
    /// registry's `token_url`, the password grant its only one; `None` unless `authority` signs with a key
    /// ring and has an issuer.
    pub fn new(authority: &Authority, registry: &'static impl TokenUrl) -> Option<Self> {
        let ring = authority.key_ring()?;
        let issuer = authority.trusted_issuers().first()?.trim_end_matches('/').to_owned();
        let at = |path: &str| format!("{issuer}/{}", path.trim_start_matches('/'));
        let algorithm = ring.current_algorithm().map(|algorithm| algorithm.name().to_owned());
        Some(IssuerMetadata {
            authorization_endpoint: at(Self::AUTHORIZATION_PATH),
            token_endpoint: at(registry.issuing_token_url()),
            jwks_uri: at(Self::JWKS_PATH),
            revocation_endpoint: None,
            scopes_supported: registry.registry().scopes().iter().map(|scope| scope.name.to_owned()).collect(),
            response_types_supported: Vec::new(),
            grant_types_supported: vec!["password".into()],
            subject_types_supported: vec!["public".into()],
            id_token_signing_alg_values_supported: algorithm.into_iter().collect(),
            token_endpoint_auth_methods_supported: vec!["none".into()],
            issuer,
        })
    }

    /// Names `path` (under the issuer URL) as its RFC 7009 revocation endpoint, and `grant_types` as its
    /// token endpoint's grants.
    pub fn with_revocation(mut self, path: &str, grant_types: &[&str]) -> Self {
        self.revocation_endpoint = Some(format!("{}/{}", self.issuer, path.trim_start_matches('/')));
        self.grant_types_supported = grant_types.iter().map(|grant| (*grant).to_owned()).collect();
        self
    }
}

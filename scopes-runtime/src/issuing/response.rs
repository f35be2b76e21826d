//! The token endpoint's success body.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The token endpoint's 200 body (RFC 6749 §5.1).
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::issuing::TokenResponse;
/// let body = serde_json::to_string(&TokenResponse::bearer("abc".into(), Duration::from_secs(1800), &["me"])).unwrap();
/// assert_eq!(body, r#"{"access_token":"abc","token_type":"bearer","expires_in":1800,"scope":"me"}"#);
/// ```
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Token, description = "An issued bearer token."))]
pub struct TokenResponse {
    /// The signed JWT.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: u64,
    /// The granted scopes, space-separated: they may be fewer than those requested.
    pub scope: String,
    /// A refresh token (RFC 6749 §6), when the store keeps them: opaque, used once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

impl std::fmt::Debug for TokenResponse {
    /// Every field but the tokens themselves, which show as `<redacted>`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::issuing::TokenResponse;
    /// let response = TokenResponse::bearer("eyJ.secret.token".into(), Duration::from_secs(60), &["me"]);
    /// assert!(!format!("{response:?}").contains("eyJ"));
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenResponse")
            .field("access_token", &"<redacted>")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("scope", &self.scope)
            .field("refresh_token", &self.refresh_token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl TokenResponse {
    /// A bearer token response for a token that lives `lifetime` and grants `scopes`.
    pub fn bearer<T: AsRef<str>>(access_token: String, lifetime: Duration, scopes: &[T]) -> Self {
        let scope = scopes.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(" ");
        TokenResponse {
            access_token,
            token_type: "bearer".into(),
            expires_in: lifetime.as_secs(),
            scope,
            refresh_token: None,
        }
    }

    /// The same response for a token bound to the client's key (RFC 9449 §5): `token_type` `DPoP`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::issuing::TokenResponse;
    /// let bound = TokenResponse::bearer("abc".into(), Duration::from_secs(60), &["me"]).bound_to_key();
    /// assert_eq!(bound.token_type, "DPoP");
    /// ```
    pub fn bound_to_key(mut self) -> Self {
        self.token_type = "DPoP".into();
        self
    }

    /// The same response, with `refresh_token`.
    pub fn with_refresh_token(mut self, refresh_token: String) -> Self {
        self.refresh_token = Some(refresh_token);
        self
    }
}

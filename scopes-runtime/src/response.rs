//! The token endpoint's success body.

use serde::{Deserialize, Serialize};

/// `{"access_token": "...", "token_type": "bearer"}`, the token endpoint's 200 body.
///
/// ```
/// use scopes_runtime::TokenResponse;
/// let body = serde_json::to_string(&TokenResponse::bearer("abc".into())).unwrap();
/// assert_eq!(body, r#"{"access_token":"abc","token_type":"bearer"}"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = Token, description = "An issued bearer token."))]
pub struct TokenResponse {
    /// The signed JWT.
    pub access_token: String,
    /// Always `bearer`.
    pub token_type: String,
}

impl TokenResponse {
    /// A bearer token response.
    pub fn bearer(access_token: String) -> Self {
        TokenResponse { access_token, token_type: "bearer".into() }
    }
}

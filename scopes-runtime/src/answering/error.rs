//! The one error type of authentication and authorization.
//!
//! Every failure a request can meet on the way to a guarded handler or through the token endpoint is an
//! [`AuthError`]. How it is answered (status, body, `WWW-Authenticate`) is the configured
//! [`ResponseStyle`](crate::ResponseStyle)'s business, in `style.rs`: the same failure reads as FastAPI
//! answers it, or as RFC 6750 and RFC 6749 say, or as the app chooses.

use std::borrow::Cow;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::registry::Requirement;
use crate::verifying::ClaimError;

/// Why a request was refused.
///
/// Apps construct the variants that belong to their own hooks (an unknown user in
/// [`Principal::from_claims`](crate::Principal::from_claims), a disabled account in a
/// [`Guard`](crate::Guard)); the framework produces the rest. The extractors always answer in the
/// authority's configured style, and so does a `#[requires]` handler served by a
/// [`SecureRouter`](crate::routing::SecureRouter) that returns one; returned from any other handler, it
/// answers in the library's default style, RFC 6750 / RFC 6749, unless [`restyle`](crate::authority::restyle)
/// is layered over the app.
///
/// ```
/// use axum::response::IntoResponse;
/// use scopes_runtime::AuthError;
///
/// let response = AuthError::InactiveUser.into_response();
/// assert_eq!(response.status(), 403);
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header, or one whose scheme is not `Bearer`.
    #[error("not authenticated")]
    MissingCredentials,
    /// The credentials are malformed: several `Authorization` headers, or a token that is empty, too
    /// long or not made of RFC 6750 `b64token` characters.
    #[error("malformed request: {description}")]
    MalformedCredentials {
        /// What is wrong, for the `error_description`.
        description: &'static str,
        /// The scopes the refused request required, for the `WWW-Authenticate` challenge.
        challenge: Challenge,
    },
    /// The bearer token failed verification, or names no known principal.
    #[error("could not validate credentials")]
    InvalidToken {
        /// The scopes the refused request required, for the `WWW-Authenticate` challenge.
        challenge: Challenge,
    },
    /// The DPoP proof (RFC 9449) sent with a DPoP-bound token is missing, malformed, fails a check, names
    /// another key than the token's, or was used before: 401 `invalid_dpop_proof`.
    #[error("invalid DPoP proof: {description}")]
    InvalidDpopProof {
        /// What is wrong, for the `error_description`.
        description: &'static str,
        /// The scopes the refused request required, for the `WWW-Authenticate` challenge.
        challenge: Challenge,
    },
    /// The DPoP proof carries no current server nonce (RFC 9449 §9): 401 `use_dpop_nonce`, with `nonce`
    /// in the `DPoP-Nonce` header for the client's next proof.
    #[error("the DPoP proof must carry the server's nonce")]
    UseDpopNonce {
        /// The nonce to use.
        nonce: String,
        /// The scopes the refused request required.
        challenge: Challenge,
    },
    /// A token request's DPoP proof carries no current server nonce (RFC 9449 §8): 400 `use_dpop_nonce`,
    /// with `nonce` in the `DPoP-Nonce` header.
    #[error("the token request's DPoP proof must carry the server's nonce")]
    DpopNonceRequired {
        /// The nonce to use.
        nonce: String,
    },
    /// The token does not show the authentication the route asks (RFC 9470): its `acr` is not one the
    /// route takes, or its `auth_time` is missing or older than the route's `max_age`. 401
    /// `insufficient_user_authentication`, the challenge naming `acr_values` and `max_age`, so the client
    /// can send the user back to authenticate as asked.
    #[error("insufficient user authentication")]
    InsufficientUserAuthentication {
        /// The classes that would do, space-separated, as the challenge's `acr_values` says.
        acr_values: Option<String>,
        /// The route's `max_age`, in seconds.
        max_age: Option<u64>,
        /// The scopes the refused request required.
        challenge: Challenge,
    },
    /// The token is valid but lacks a scope the handler requires.
    #[error("not enough permissions")]
    InsufficientScope {
        /// The scopes the refused request required, for the `WWW-Authenticate` challenge.
        challenge: Challenge,
    },
    /// The principal is valid but disabled.
    #[error("inactive user")]
    InactiveUser,
    /// The token endpoint was given a wrong username or password.
    #[error("incorrect username or password")]
    IncorrectCredentials,
    /// The token request's DPoP proof (RFC 9449 §5) is malformed or fails a check, or is missing where
    /// DPoP is required, or is not by the key the refresh token is bound to: 400 `invalid_dpop_proof`.
    #[error("invalid DPoP proof: {description}")]
    DpopProofRefused {
        /// What is wrong, for the `error_description`.
        description: &'static str,
    },
    /// The refresh token is unknown, expired, revoked, or was used already (then its whole family is
    /// revoked), or its user is disabled or gone (RFC 6749 §5.2 `invalid_grant`).
    #[error("invalid refresh token")]
    InvalidRefreshToken,
    /// A refresh asked for a scope the refresh token was not granted (RFC 6749 §6: a refresh may narrow
    /// the scopes, never widen them).
    #[error("scope `{scope}` was not granted to this refresh token")]
    ScopeNotGranted {
        /// The first requested scope beyond the grant.
        scope: String,
    },
    /// The token endpoint's form failed validation.
    #[error("invalid form: {} issue(s)", .0.len())]
    InvalidForm(Vec<ValidationIssue>),
    /// The token endpoint was asked for a grant type it does not serve (`refresh_token` without a store
    /// that keeps refresh tokens, or any but `password` and `refresh_token`).
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// The token endpoint was asked for a scope that is not declared.
    #[error("invalid scope `{scope}`")]
    InvalidScope {
        /// The first undeclared scope requested.
        scope: String,
    },
    /// The password is longer than [`MAX_PASSWORD_BYTES`](crate::issuing::MAX_PASSWORD_BYTES).
    #[error("password longer than {} bytes", crate::verifying::parsing::MAX_PASSWORD_BYTES)]
    PasswordTooLong,
    /// The request body is larger than the endpoint accepts.
    #[error("request body too large")]
    PayloadTooLarge,
    /// Too many failed logins for this username or client address.
    #[error("too many failed logins; retry after {retry_after:?}")]
    TooManyRequests {
        /// How long until the next attempt is accepted.
        retry_after: Duration,
    },
    /// The server cannot take the request now (the account store is unreachable, or too many logins are
    /// waiting for a password check); nothing was counted against the client.
    #[error("temporarily unavailable; retry after {retry_after:?}")]
    ServiceUnavailable {
        /// How long until a retry is likely to be served.
        retry_after: Duration,
    },
    /// The resource the request names does not exist, or a [`Rule`](crate::enforcement::Rule) refused it and
    /// answers refusals as a missing resource: 404 `{"detail": detail}` in every style.
    #[error("{detail}")]
    NotFound {
        /// The `detail` member of the JSON body (the rule's `NOT_FOUND`).
        detail: &'static str,
    },
    /// A [`Rule`](crate::enforcement::Rule) declared with
    /// [`Refusal::Forbidden`](crate::enforcement::Refusal::Forbidden) refused the request: 403.
    #[error("refused by the `{rule}` rule")]
    RuleRefused {
        /// The rule's name.
        rule: &'static str,
    },
    /// An app-defined refusal with its own status and `detail` text. In the RFC style a 401 or 403 answers
    /// as an OAuth error (`invalid_token`, `access_denied`) with `detail` as its description, the shape the
    /// OpenAPI document gives those statuses; other statuses answer `{"detail": detail}`.
    #[error("{detail}")]
    Rejected {
        /// The response status.
        status: StatusCode,
        /// The `detail` member of the JSON body.
        detail: Cow<'static, str>,
    },
    /// The server could not complete the check (for example, no password-check thread is left).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AuthError {
    /// A token failure, to be completed with the request's challenge by the framework.
    ///
    /// Return it from [`Principal::from_claims`](crate::Principal::from_claims) when the token's
    /// subject names no known principal.
    ///
    /// ```
    /// use scopes_runtime::AuthError;
    /// assert!(matches!(AuthError::invalid_token(), AuthError::InvalidToken { .. }));
    /// ```
    pub fn invalid_token() -> Self {
        AuthError::InvalidToken { challenge: Challenge::default() }
    }

    /// Attaches the scope sets that would meet `requirement` to a token or scope failure, so the
    /// response's `WWW-Authenticate` challenge tells the client what would have been accepted.
    pub(crate) fn challenged_by(self, requirement: &Requirement<'_>) -> Self {
        let challenge = Challenge::from_alternatives(requirement.alternatives());
        match self {
            AuthError::MalformedCredentials { description, .. } => {
                AuthError::MalformedCredentials { description, challenge }
            }
            AuthError::InvalidToken { .. } => AuthError::InvalidToken { challenge },
            AuthError::InvalidDpopProof { description, .. } => AuthError::InvalidDpopProof { description, challenge },
            AuthError::InsufficientUserAuthentication { acr_values, max_age, .. } => {
                AuthError::InsufficientUserAuthentication { acr_values, max_age, challenge }
            }
            AuthError::UseDpopNonce { nonce, .. } => AuthError::UseDpopNonce { nonce, challenge },
            AuthError::InsufficientScope { .. } => AuthError::InsufficientScope { challenge },
            other => other,
        }
    }
}

/// The scope sets that would have met a refused request's requirement, as they appear in
/// `WWW-Authenticate: Bearer scope="..."`: one challenge per set.
///
/// Empty when the request required authentication only.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    alternatives: Vec<String>,
}

impl Challenge {
    /// Each set as its scopes joined by single spaces; no entry (or one empty entry) means none.
    ///
    /// ```
    /// use scopes_runtime::answering::Challenge;
    /// let challenge = Challenge::from_alternatives(vec![vec!["reports", "me"], vec!["admin", "me"]]);
    /// assert_eq!(challenge.scope(), "reports me");
    /// assert_eq!(challenge.alternatives(), ["reports me", "admin me"]);
    /// ```
    pub fn from_alternatives(alternatives: Vec<Vec<&str>>) -> Challenge {
        let alternatives = alternatives.into_iter().map(|scopes| scopes.join(" ")).filter(|s| !s.is_empty()).collect();
        Challenge { alternatives }
    }

    /// The first set, outermost guard first, space-separated; empty when none were required.
    ///
    /// ```
    /// use scopes_runtime::answering::Challenge;
    /// assert_eq!(Challenge::default().scope(), "");
    /// ```
    pub fn scope(&self) -> &str {
        self.alternatives.first().map_or("", String::as_str)
    }

    /// Every set that would have been enough, in the order the requirement lists them.
    pub fn alternatives(&self) -> &[String] {
        &self.alternatives
    }
}

/// One entry of a 422 response's `detail` list, in the shape FastAPI (pydantic) gives.
///
/// ```
/// use scopes_runtime::answering::ValidationIssue;
/// let issue = ValidationIssue::missing("username");
/// assert_eq!(
///     serde_json::to_string(&issue).unwrap(),
///     r#"{"type":"missing","loc":["body","username"],"msg":"Field required","input":null}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = ValidationError, description = "One problem with the request, as FastAPI reports it."))]
pub struct ValidationIssue {
    /// Machine-readable kind, e.g. `missing`.
    #[serde(rename = "type")]
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub kind: &'static str,
    /// Where the problem is: `["body", field]`.
    pub loc: Vec<String>,
    /// Human-readable message.
    pub msg: String,
    /// The offending value, `null` when absent.
    #[cfg_attr(feature = "openapi", schema(value_type = Value))]
    pub input: serde_json::Value,
    /// Extra facts, such as the pattern a value had to match.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>))]
    pub ctx: Option<serde_json::Value>,
}

impl ValidationIssue {
    /// A required body field that is absent or empty.
    pub fn missing(field: &str) -> Self {
        ValidationIssue {
            kind: "missing",
            loc: vec!["body".into(), field.into()],
            msg: "Field required".into(),
            input: serde_json::Value::Null,
            ctx: None,
        }
    }

    /// A body field given more than once (RFC 6749 §3.2).
    pub fn repeated(field: &str) -> Self {
        ValidationIssue {
            kind: "repeated",
            loc: vec!["body".into(), field.into()],
            msg: "Field given more than once".into(),
            input: serde_json::Value::Null,
            ctx: None,
        }
    }

    /// A body field longer than `max_bytes`. The value is not echoed back: it may be large.
    pub fn too_long(field: &str, max_bytes: usize) -> Self {
        ValidationIssue {
            kind: "string_too_long",
            loc: vec!["body".into(), field.into()],
            msg: format!("String should have at most {max_bytes} bytes"),
            input: serde_json::Value::Null,
            ctx: Some(serde_json::json!({ "max_length": max_bytes })),
        }
    }

    /// A body field whose value does not match `pattern`.
    pub fn pattern_mismatch(field: &str, input: &str, pattern: &str) -> Self {
        ValidationIssue {
            kind: "string_pattern_mismatch",
            loc: vec!["body".into(), field.into()],
            msg: format!("String should match pattern '{pattern}'"),
            input: serde_json::Value::String(input.into()),
            ctx: Some(serde_json::json!({ "pattern": pattern })),
        }
    }
}

/// Marks a response rendered from an [`AuthError`] in the default style, so that
/// [`restyle`](crate::authority::restyle) can answer it in the app's.
#[derive(Clone)]
pub(crate) struct DefaultStyled(pub(crate) AuthError);

/// A claim the app cannot read makes the token invalid: 401, challenged as every invalid token is. Logged at
/// DEBUG with the claim's name (never its value).
impl From<ClaimError> for AuthError {
    fn from(error: ClaimError) -> Self {
        tracing::debug!(claim = error.name(), "a token's claim is not of the type the app reads: the token is refused");
        AuthError::invalid_token()
    }
}

impl AuthError {
    /// The error a handler returned, when `response` was rendered from one.
    pub(crate) fn returned_in(response: &Response) -> Option<&AuthError> {
        response.extensions().get::<DefaultStyled>().map(|DefaultStyled(error)| error)
    }
}

impl IntoResponse for AuthError {
    /// Answers in the library's default style (RFC 6750 / RFC 6749, realm `api`), and carries the error so
    /// that [`restyle`](crate::authority::restyle), layered over the app, answers it in the configured style.
    fn into_response(self) -> Response {
        let mut response = crate::answering::style::ResponseStyle::default().render(&self);
        response.extensions_mut().insert(DefaultStyled(self));
        response
    }
}

//! The one error type of authentication and authorization, and the HTTP responses it becomes.
//!
//! Every failure a request can meet on the way to a guarded handler or through the token endpoint is an
//! [`AuthError`]; its [`IntoResponse`] implementation is the single place that decides status, body and
//! `WWW-Authenticate` challenge. The responses are the ones FastAPI's OAuth2 tutorial gives, so an app
//! ported from it answers clients byte for byte the same.

use std::borrow::Cow;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::guard::Requirement;

/// Why a request was refused.
///
/// Apps construct the variants that belong to their own hooks (an unknown user in
/// [`Principal::from_claims`](crate::Principal::from_claims), a disabled account in a
/// [`Guard`](crate::Guard)); the framework produces the rest.
///
/// ```
/// use axum::response::IntoResponse;
/// use scopes_runtime::AuthError;
///
/// let response = AuthError::InactiveUser.into_response();
/// assert_eq!(response.status(), 400);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No `Authorization` header, or one whose scheme is not `Bearer`.
    #[error("not authenticated")]
    MissingCredentials,
    /// The bearer token failed verification, or names no known principal.
    #[error("could not validate credentials")]
    InvalidToken {
        /// The scopes the refused request required, for the `WWW-Authenticate` challenge.
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
    /// The token endpoint's form failed validation.
    #[error("invalid form: {} issue(s)", .0.len())]
    InvalidForm(Vec<ValidationIssue>),
    /// An app-defined refusal with its own status and `detail` text.
    #[error("{detail}")]
    Rejected {
        /// The response status.
        status: StatusCode,
        /// The `detail` member of the JSON body.
        detail: Cow<'static, str>,
    },
    /// The server could not complete the check (for example, the blocking pool is gone).
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

    /// Attaches the scopes `requirement` asks for to a 401 token or scope failure, so the response's
    /// `WWW-Authenticate` challenge tells the client what would have been accepted.
    pub(crate) fn challenged_by(self, requirement: &Requirement<'_>) -> Self {
        match self {
            AuthError::InvalidToken { .. } => {
                AuthError::InvalidToken { challenge: Challenge::for_requirement(requirement) }
            }
            AuthError::InsufficientScope { .. } => {
                AuthError::InsufficientScope { challenge: Challenge::for_requirement(requirement) }
            }
            other => other,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            AuthError::MissingCredentials | AuthError::InvalidToken { .. } | AuthError::InsufficientScope { .. } => {
                StatusCode::UNAUTHORIZED
            }
            AuthError::InactiveUser | AuthError::IncorrectCredentials => StatusCode::BAD_REQUEST,
            AuthError::InvalidForm(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AuthError::Rejected { status, .. } => *status,
            AuthError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn challenge(&self) -> Option<HeaderValue> {
        let value = match self {
            AuthError::MissingCredentials => Cow::Borrowed("Bearer"),
            AuthError::InvalidToken { challenge } | AuthError::InsufficientScope { challenge } => {
                challenge.header_text()
            }
            _ => return None,
        };
        // Scope names are checked against RFC 6749's scope-token characters when they are declared, so
        // the value is always a valid header; a failure here would be a framework bug, answered safely.
        Some(HeaderValue::from_str(&value).unwrap_or(HeaderValue::from_static("Bearer")))
    }
}

/// The scopes a refused request required, as they appear in `WWW-Authenticate: Bearer scope="..."`.
///
/// Empty when the request required authentication only; the challenge is then a plain `Bearer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Challenge {
    scope: String,
}

impl Challenge {
    fn for_requirement(requirement: &Requirement<'_>) -> Self {
        Challenge { scope: requirement.scope_string() }
    }

    /// The space-separated scopes, outermost guard first; empty when none were required.
    ///
    /// ```
    /// use scopes_runtime::Challenge;
    /// assert_eq!(Challenge::default().scope(), "");
    /// ```
    pub fn scope(&self) -> &str {
        &self.scope
    }

    fn header_text(&self) -> Cow<'static, str> {
        if self.scope.is_empty() {
            Cow::Borrowed("Bearer")
        } else {
            Cow::Owned(format!("Bearer scope=\"{}\"", self.scope))
        }
    }
}

/// One entry of a 422 response's `detail` list, in the shape FastAPI (pydantic) gives.
///
/// ```
/// use scopes_runtime::ValidationIssue;
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

#[derive(Serialize)]
struct Detail<T> {
    detail: T,
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        let status = self.status();
        let challenge = self.challenge();
        let mut response = match self {
            AuthError::InvalidForm(issues) => (status, Json(Detail { detail: issues })).into_response(),
            AuthError::Rejected { detail, .. } => (status, Json(Detail { detail })).into_response(),
            AuthError::Internal(reason) => {
                tracing::error!(%reason, "authorization failed inside the server");
                (status, Json(Detail { detail: "Internal Server Error" })).into_response()
            }
            other => (status, Json(Detail { detail: other.seed_detail() })).into_response(),
        };
        if let Some(challenge) = challenge {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}

impl AuthError {
    /// The `detail` text FastAPI's tutorial app gives for each failure.
    fn seed_detail(&self) -> &'static str {
        match self {
            AuthError::MissingCredentials => "Not authenticated",
            AuthError::InvalidToken { .. } => "Could not validate credentials",
            AuthError::InsufficientScope { .. } => "Not enough permissions",
            AuthError::InactiveUser => "Inactive user",
            AuthError::IncorrectCredentials => "Incorrect username or password",
            AuthError::InvalidForm(_) | AuthError::Rejected { .. } | AuthError::Internal(_) => "Internal Server Error",
        }
    }
}

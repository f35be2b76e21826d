//! How refusals are answered: FastAPI's tutorial (`Seed`), the standards (`Rfc`, the default), or the
//! app's own renderer (`Custom`).
//!
//! `Rfc` answers protected resources as RFC 6750 §3 says (401 with a `Bearer realm` challenge and no
//! error when credentials are missing, 400 `invalid_request`, 401 `invalid_token`, 403
//! `insufficient_scope` with the required `scope`) and the token endpoint as RFC 6749 §5.2 says (400
//! with `invalid_request`, `invalid_grant`, `unsupported_grant_type` or `invalid_scope`).
//!
//! Every challenge attribute goes through [`quoted_string`], so nothing (a configured realm included)
//! reaches a header unescaped. How strictly requests are read is a separate setting, [`RequestParsing`](crate::verifying::RequestParsing):
//! a custom renderer changes how refusals look, never what is refused.

use std::fmt;
use std::sync::Arc;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::answering::error::{AuthError, Challenge};
use crate::verifying::parsing::MAX_PASSWORD_BYTES;

/// Renders an [`AuthError`] as the app's own response.
pub type RenderFn = dyn Fn(&AuthError) -> Response + Send + Sync;

/// How refusals are answered. Set it on the [`Authority`](crate::Authority).
///
/// ```
/// use scopes_runtime::{AuthError, ResponseStyle};
///
/// let rfc = ResponseStyle::rfc("example");
/// let refused = rfc.render(&AuthError::InsufficientScope { challenge: Default::default() });
/// assert_eq!(refused.status(), 403);
///
/// let seed = ResponseStyle::Seed;
/// assert_eq!(seed.render(&AuthError::InsufficientScope { challenge: Default::default() }).status(), 401);
/// ```
#[derive(Clone)]
pub enum ResponseStyle {
    /// RFC 6750 for protected resources, RFC 6749 §5.2 for the token endpoint.
    Rfc {
        /// The protection space named in every challenge, `Bearer realm="..."`.
        realm: Arc<str>,
    },
    /// Exactly what FastAPI's OAuth2-scopes tutorial answers (`shared/reference/seed-behaviour.md`).
    Seed,
    /// The app's own responses.
    Custom(Arc<RenderFn>),
}

impl Default for ResponseStyle {
    /// RFC style, realm `api`.
    fn default() -> Self {
        ResponseStyle::rfc("api")
    }
}

impl fmt::Debug for ResponseStyle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseStyle::Rfc { realm } => f.debug_struct("Rfc").field("realm", realm).finish(),
            ResponseStyle::Seed => f.write_str("Seed"),
            ResponseStyle::Custom(_) => f.write_str("Custom(..)"),
        }
    }
}

impl ResponseStyle {
    /// The RFC style with `realm` in its challenges.
    pub fn rfc(realm: impl Into<Arc<str>>) -> Self {
        ResponseStyle::Rfc { realm: realm.into() }
    }

    /// The app's own renderer.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use axum::response::IntoResponse;
    /// use scopes_runtime::{AuthError, ResponseStyle};
    ///
    /// let teapot = ResponseStyle::custom(|_error: &AuthError| StatusCode::IM_A_TEAPOT.into_response());
    /// assert_eq!(teapot.render(&AuthError::MissingCredentials).status(), 418);
    /// ```
    pub fn custom(render: impl Fn(&AuthError) -> Response + Send + Sync + 'static) -> Self {
        ResponseStyle::Custom(Arc::new(render))
    }

    /// The response for `error`.
    pub fn render(&self, error: &AuthError) -> Response {
        self.render_with(error, &[], Schemes::BEARER)
    }

    /// The response for `error`, challenging with `schemes`, with `attributes` added to each challenge
    /// (after `realm`, before `scope`), such as RFC 9728's `resource_metadata`. A custom style renders
    /// `error` alone.
    pub(crate) fn render_with(&self, error: &AuthError, attributes: &[(&str, &str)], schemes: Schemes<'_>) -> Response {
        match self {
            ResponseStyle::Rfc { realm } => render_rfc(error, realm, attributes, schemes),
            ResponseStyle::Seed => render_seed(error, attributes, schemes),
            ResponseStyle::Custom(render) => render(error),
        }
    }
}

/// `value` as an RFC 9110 quoted-string: `"` and `\` escaped, anything but visible ASCII and space
/// replaced, so no text can end the attribute or the header.
///
/// ```
/// use scopes_runtime::answering::style::quoted_string;
/// assert_eq!(quoted_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
/// assert_eq!(quoted_string("line\r\nbreak"), r#""line??break""#);
/// ```
pub fn quoted_string(value: &str) -> String {
    let mut quoted = String::with_capacity(value.len() + 2);
    quoted.push('"');
    for c in value.chars() {
        match c {
            '"' | '\\' => {
                quoted.push('\\');
                quoted.push(c);
            }
            ' '..='~' => quoted.push(c),
            _ => quoted.push('?'),
        }
    }
    quoted.push('"');
    quoted
}

/// The schemes a refusal challenges with (RFC 7235 allows several in one header): `Bearer`, `DPoP` with the
/// algorithms its proofs may use (RFC 9449 §7.1), or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Schemes<'a> {
    /// Whether bearer tokens are taken.
    pub(crate) bearer: bool,
    /// The `algs` of the `DPoP` challenge, when DPoP-bound tokens are taken.
    pub(crate) dpop_algs: Option<&'a str>,
}

impl Schemes<'_> {
    /// Bearer tokens alone: an API without DPoP.
    pub(crate) const BEARER: Schemes<'static> = Schemes { bearer: true, dpop_algs: None };

    /// `DPoP` alone where it is taken (a refused proof concerns no bearer client).
    fn dpop_only(self) -> Self {
        Schemes { bearer: self.dpop_algs.is_none(), ..self }
    }
}

/// A challenge with `attributes` for each of `schemes`, each value quoted.
fn challenges(schemes: Schemes<'_>, attributes: &[(&str, &str)]) -> HeaderValue {
    header_value(write_challenges(String::new(), schemes, attributes))
}

/// `written` followed by a challenge with `attributes` for each of `schemes` (`DPoP`'s with its `algs`).
fn write_challenges(mut written: String, schemes: Schemes<'_>, attributes: &[(&str, &str)]) -> String {
    if schemes.bearer || schemes.dpop_algs.is_none() {
        written = write_challenge(written, "Bearer", attributes);
    }
    if let Some(algs) = schemes.dpop_algs {
        let mut with_algs = attributes.to_vec();
        with_algs.push(("algs", algs));
        written = write_challenge(written, "DPoP", &with_algs);
    }
    written
}

/// `challenge` followed by a `scheme` challenge with `attributes`, each value quoted.
fn write_challenge(mut challenge: String, scheme: &str, attributes: &[(&str, &str)]) -> String {
    if !challenge.is_empty() {
        challenge.push_str(", ");
    }
    challenge.push_str(scheme);
    for (index, (name, value)) in attributes.iter().enumerate() {
        challenge.push_str(if index == 0 { " " } else { ", " });
        challenge.push_str(name);
        challenge.push('=');
        challenge.push_str(&quoted_string(value));
    }
    challenge
}

/// One challenge per scheme and scope set that would have been enough, each with `attributes` and that
/// set's `scope`; a client reading only the first still learns a sufficient set. With no scope required,
/// one per scheme with `attributes` alone.
fn scope_challenges(schemes: Schemes<'_>, attributes: &[(&str, &str)], challenge: &Challenge) -> HeaderValue {
    if challenge.alternatives().is_empty() {
        return challenges(schemes, attributes);
    }
    let written = challenge.alternatives().iter().fold(String::new(), |written, scope| {
        let mut with_scope = attributes.to_vec();
        with_scope.push(("scope", scope));
        write_challenges(written, schemes, &with_scope)
    });
    header_value(written)
}

fn header_value(challenge: String) -> HeaderValue {
    // Quoting leaves only visible ASCII and spaces, always a valid header value.
    HeaderValue::from_str(&challenge).unwrap_or_else(|_| HeaderValue::from_static("Bearer"))
}

fn respond(status: StatusCode, body: Value, challenge: Option<HeaderValue>) -> Response {
    let mut response = (status, Json(body)).into_response();
    if let Some(challenge) = challenge {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, challenge);
    }
    response
}

/// `response` with the headers that tell the client what to do next: `Retry-After`, `DPoP-Nonce`.
fn with_advice_headers(mut response: Response, error: &AuthError) -> Response {
    // RFC 9449 §8, §9: the nonce the client's next proof must carry.
    if let AuthError::UseDpopNonce { nonce, .. } | AuthError::DpopNonceRequired { nonce } = error
        && let Ok(nonce) = HeaderValue::from_str(nonce)
    {
        response.headers_mut().insert("dpop-nonce", nonce);
    }
    if let AuthError::TooManyRequests { retry_after } | AuthError::ServiceUnavailable { retry_after } = error {
        // Whole seconds, rounded up, at least one: a client retrying at once would be refused again.
        let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

fn internal(reason: &str) -> Response {
    tracing::error!(%reason, "authorization failed inside the server");
    respond(StatusCode::INTERNAL_SERVER_ERROR, json!({ "detail": "Internal Server Error" }), None)
}

fn render_seed(error: &AuthError, attributes: &[(&str, &str)], schemes: Schemes<'_>) -> Response {
    let detail = |status: StatusCode, text: &str| respond(status, json!({ "detail": text }), None);
    let response = match error {
        AuthError::MissingCredentials => respond(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Not authenticated" }),
            Some(challenges(schemes, attributes)),
        ),
        AuthError::MalformedCredentials { challenge, .. } | AuthError::InvalidToken { challenge } => respond(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Could not validate credentials" }),
            Some(scope_challenges(schemes, attributes, challenge)),
        ),
        AuthError::InvalidDpopProof { challenge, .. } => respond(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Could not validate credentials" }),
            Some(scope_challenges(schemes.dpop_only(), attributes, challenge)),
        ),
        AuthError::UseDpopNonce { .. } => respond(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Could not validate credentials" }),
            Some(challenges(schemes.dpop_only(), &[attributes, &[("error", "use_dpop_nonce")]].concat())),
        ),
        AuthError::DpopNonceRequired { .. } => detail(StatusCode::BAD_REQUEST, "Use the DPoP nonce"),
        AuthError::InsufficientUserAuthentication { acr_values, max_age, .. } => {
            let max_age = max_age.map(|seconds| seconds.to_string());
            let mut with = attributes.to_vec();
            with.extend(step_up_attributes(acr_values.as_deref(), max_age.as_deref()));
            respond(
                StatusCode::UNAUTHORIZED,
                json!({ "detail": "Insufficient user authentication" }),
                Some(challenges(schemes, &with)),
            )
        }
        AuthError::InsufficientScope { challenge } => respond(
            StatusCode::UNAUTHORIZED,
            json!({ "detail": "Not enough permissions" }),
            Some(scope_challenges(schemes, attributes, challenge)),
        ),
        AuthError::InactiveUser => detail(StatusCode::BAD_REQUEST, "Inactive user"),
        AuthError::IncorrectCredentials => detail(StatusCode::BAD_REQUEST, "Incorrect username or password"),
        AuthError::InvalidRefreshToken => detail(StatusCode::BAD_REQUEST, "Invalid refresh token"),
        AuthError::DpopProofRefused { .. } => detail(StatusCode::BAD_REQUEST, "Invalid DPoP proof"),
        AuthError::ScopeNotGranted { .. } => detail(StatusCode::BAD_REQUEST, "Scope not granted to this refresh token"),
        AuthError::InvalidForm(issues) => respond(StatusCode::UNPROCESSABLE_ENTITY, json!({ "detail": issues }), None),
        AuthError::UnsupportedGrantType => detail(StatusCode::BAD_REQUEST, "Unsupported grant type"),
        AuthError::InvalidScope { .. } => detail(StatusCode::BAD_REQUEST, "Invalid scope"),
        AuthError::PasswordTooLong => {
            detail(StatusCode::BAD_REQUEST, &format!("Password longer than {MAX_PASSWORD_BYTES} bytes"))
        }
        AuthError::PayloadTooLarge => detail(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large"),
        AuthError::TooManyRequests { .. } => {
            detail(StatusCode::TOO_MANY_REQUESTS, "Too many failed login attempts; try again later")
        }
        AuthError::ServiceUnavailable { .. } => {
            detail(StatusCode::SERVICE_UNAVAILABLE, "Service temporarily unavailable; try again later")
        }
        AuthError::NotFound { detail: text } => detail(StatusCode::NOT_FOUND, text),
        AuthError::RuleRefused { .. } => detail(StatusCode::FORBIDDEN, "Not enough permissions"),
        AuthError::Rejected { status, detail: text } => detail(*status, text),
        AuthError::Internal(reason) => internal(reason),
    };
    with_advice_headers(response, error)
}

/// What a `use_dpop_nonce` refusal says, at a resource and at the token endpoint.
const USE_DPOP_NONCE: &str = "the DPoP proof must carry the nonce in the `DPoP-Nonce` header";

/// RFC 9470 §3's challenge attributes: `acr_values` and `max_age`, those given.
fn step_up_attributes<'a>(acr_values: Option<&'a str>, max_age: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let acr = acr_values.map(|values| ("acr_values", values));
    let age = max_age.map(|seconds| ("max_age", seconds));
    acr.into_iter().chain(age).collect()
}

/// `attributes` (realm first) with `extra` after the realm.
fn with_extra<'a>(extra: &[(&'a str, &'a str)], attributes: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut all = attributes.to_vec();
    all.splice(1..1, extra.iter().copied());
    all
}

fn render_rfc(error: &AuthError, realm: &str, extra: &[(&str, &str)], schemes: Schemes<'_>) -> Response {
    let oauth_error = |status: StatusCode, code: &str, description: &str| {
        respond(status, json!({ "error": code, "error_description": description }), None)
    };
    // An OAuth error that challenges too: the same code and description in the body and in each of
    // `schemes`' challenges, after the realm.
    let challenged = |status: StatusCode, code: &str, description: &str, schemes: Schemes<'_>| {
        let attributes = [("realm", realm), ("error", code), ("error_description", description)];
        let challenge = challenges(schemes, &with_extra(extra, &attributes));
        respond(status, json!({ "error": code, "error_description": description }), Some(challenge))
    };
    let response = match error {
        // RFC 6750 §3.1: no error code when the request carries no authentication at all.
        AuthError::MissingCredentials => respond(
            StatusCode::UNAUTHORIZED,
            json!({ "error_description": if schemes.bearer { "a bearer token is required" } else { "a DPoP-bound token and its proof are required" } }),
            Some(challenges(schemes, &with_extra(extra, &[("realm", realm)]))),
        ),
        AuthError::MalformedCredentials { description, .. } => {
            challenged(StatusCode::BAD_REQUEST, "invalid_request", description, schemes)
        }
        AuthError::InvalidToken { .. } => {
            let description = "the access token is invalid, expired, or names no known user";
            challenged(StatusCode::UNAUTHORIZED, "invalid_token", description, schemes)
        }
        AuthError::UseDpopNonce { .. } => {
            challenged(StatusCode::UNAUTHORIZED, "use_dpop_nonce", USE_DPOP_NONCE, schemes.dpop_only())
        }
        AuthError::DpopNonceRequired { .. } => oauth_error(StatusCode::BAD_REQUEST, "use_dpop_nonce", USE_DPOP_NONCE),
        AuthError::InsufficientUserAuthentication { acr_values, max_age, .. } => {
            let description = "the user must authenticate again, as the challenge's `acr_values` and `max_age` say";
            let max_age_text = max_age.map(|seconds| seconds.to_string());
            let mut attributes = vec![
                ("realm", realm),
                ("error", "insufficient_user_authentication"),
                ("error_description", description),
            ];
            attributes.extend(step_up_attributes(acr_values.as_deref(), max_age_text.as_deref()));
            let mut body = json!({ "error": "insufficient_user_authentication", "error_description": description });
            if let Some(acr_values) = acr_values {
                body["acr_values"] = json!(acr_values);
            }
            if let Some(max_age) = max_age {
                body["max_age"] = json!(max_age);
            }
            respond(StatusCode::UNAUTHORIZED, body, Some(challenges(schemes, &with_extra(extra, &attributes))))
        }
        AuthError::InvalidDpopProof { description, .. } => {
            challenged(StatusCode::UNAUTHORIZED, "invalid_dpop_proof", description, schemes.dpop_only())
        }
        AuthError::InsufficientScope { challenge } => {
            let description = "the access token lacks a required scope";
            let mut body =
                json!({ "error": "insufficient_scope", "error_description": description, "scope": challenge.scope() });
            if challenge.alternatives().len() > 1 {
                body["scope_alternatives"] = json!(challenge.alternatives());
            }
            respond(
                StatusCode::FORBIDDEN,
                body,
                Some(scope_challenges(
                    schemes,
                    &with_extra(
                        extra,
                        &[("realm", realm), ("error", "insufficient_scope"), ("error_description", description)],
                    ),
                    challenge,
                )),
            )
        }
        AuthError::InactiveUser => oauth_error(StatusCode::FORBIDDEN, "access_denied", "the user is inactive"),
        AuthError::IncorrectCredentials => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "incorrect username or password")
        }
        AuthError::DpopProofRefused { description } => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_dpop_proof", description)
        }
        AuthError::InvalidRefreshToken => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "the refresh token is invalid, expired, revoked or used already",
        ),
        AuthError::ScopeNotGranted { scope } => oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("scope `{scope}` was not granted to this refresh token"),
        ),
        AuthError::InvalidForm(issues) => {
            let fields: Vec<String> =
                issues.iter().map(|issue| issue.loc.last().cloned().unwrap_or_default()).collect();
            // A form with repeated parameters is refused for that alone (RFC 6749 §3.2).
            let what = if issues.iter().all(|issue| issue.kind == "repeated") {
                "given more than once"
            } else {
                "missing or invalid"
            };
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &format!("{what}: {}", fields.join(", ")))
        }
        AuthError::UnsupportedGrantType => {
            oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "this grant type is not served here")
        }
        AuthError::InvalidScope { scope } => {
            oauth_error(StatusCode::BAD_REQUEST, "invalid_scope", &format!("scope `{scope}` is not declared"))
        }
        AuthError::PasswordTooLong => {
            let description = format!("the password is longer than {MAX_PASSWORD_BYTES} bytes");
            oauth_error(StatusCode::BAD_REQUEST, "invalid_request", &description)
        }
        AuthError::PayloadTooLarge => {
            oauth_error(StatusCode::PAYLOAD_TOO_LARGE, "invalid_request", "the request body is too large")
        }
        AuthError::TooManyRequests { .. } => {
            oauth_error(StatusCode::TOO_MANY_REQUESTS, "slow_down", "too many failed logins; retry later")
        }
        AuthError::ServiceUnavailable { .. } => oauth_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server cannot check credentials now; retry later",
        ),
        AuthError::NotFound { detail } => respond(StatusCode::NOT_FOUND, json!({ "detail": detail }), None),
        AuthError::RuleRefused { rule } => {
            oauth_error(StatusCode::FORBIDDEN, "access_denied", &format!("the `{rule}` rule refuses this request"))
        }
        // The shape the document gives every 401 and 403 in this style: an OAuth error.
        AuthError::Rejected { status, detail } if *status == StatusCode::UNAUTHORIZED => {
            oauth_error(*status, "invalid_token", detail)
        }
        AuthError::Rejected { status, detail } if *status == StatusCode::FORBIDDEN => {
            oauth_error(*status, "access_denied", detail)
        }
        AuthError::Rejected { status, detail } => respond(*status, json!({ "detail": detail }), None),
        AuthError::Internal(reason) => internal(reason),
    };
    with_advice_headers(response, error)
}

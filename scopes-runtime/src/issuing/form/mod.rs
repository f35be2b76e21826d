//! The token endpoint's request forms: the password grant (RFC 6749 §4.3, as FastAPI's
//! `OAuth2PasswordRequestForm` reads it), the refresh-token grant (§6), and revocation (RFC 7009).

use axum::extract::{FromRef, FromRequest, Multipart, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

use crate::answering::error::{AuthError, ValidationIssue};
use crate::authority::Authority;
use crate::verifying::parsing::{MAX_FORM_BYTES, MAX_PASSWORD_BYTES, MAX_REFRESH_TOKEN_BYTES, MAX_USERNAME_BYTES};

/// The fields of a password-grant token request.
///
/// Read from an `application/x-www-form-urlencoded` or `multipart/form-data` body; any other body reads as
/// an empty form. An empty value counts as absent. A missing `username` or `password`, a username over
/// [`MAX_USERNAME_BYTES`], or a `grant_type` other than `password`, is a 422 listing every problem in
/// FastAPI's shape (in the RFC style, 400 `invalid_request`). Read strictly (the authority's
/// [`RequestParsing`](crate::verifying::RequestParsing)), `grant_type` is required and a repeated field is
/// refused (RFC 6749 §3.2); read leniently, as FastAPI reads it, the last value of a repeated field wins.
///
/// ```
/// use axum::{Json, Router, routing::post};
/// use scopes_runtime::{Authority, PasswordRequestForm};
///
/// // Read as the state's `Authority` says, refusals answered in its style.
/// async fn token(form: PasswordRequestForm) -> Json<Vec<String>> {
///     Json(form.scopes().into_iter().map(String::from).collect())
/// }
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// let app: Router = Router::new().route("/token", post(token)).with_state(authority);
/// ```
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TokenRequest, description = "A password-grant token request (RFC 6749 §4.3)."))]
pub struct PasswordRequestForm {
    /// `password` when given.
    #[cfg_attr(feature = "openapi", schema(pattern = "^password$"))]
    pub grant_type: Option<String>,
    /// The username; never empty, at most 256 bytes.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 256))]
    pub username: String,
    /// The password; never empty, at most [`MAX_PASSWORD_BYTES`].
    #[cfg_attr(feature = "openapi", schema(format = Password, min_length = 1))]
    pub password: String,
    /// The requested scopes, space-separated; empty when none were asked for.
    #[cfg_attr(feature = "openapi", schema(default = "", required = false))]
    pub scope: String,
    /// The client identifier, if the client sent one.
    pub client_id: Option<String>,
    /// The client secret, if the client sent one.
    #[cfg_attr(feature = "openapi", schema(format = Password))]
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for PasswordRequestForm {
    /// Every field but the password and the client secret, which show as `<redacted>` when given.
    ///
    /// ```
    /// # use scopes_runtime::PasswordRequestForm;
    /// let form = PasswordRequestForm { grant_type: None, username: "johndoe".into(), password: "hunter2".into(),
    ///     scope: String::new(), client_id: Some("app".into()), client_secret: Some("s3cr3t".into()) };
    /// let printed = format!("{form:?}");
    /// assert!(printed.contains("johndoe") && !printed.contains("hunter2") && !printed.contains("s3cr3t"));
    /// ```
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordRequestForm")
            .field("grant_type", &self.grant_type)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl PasswordRequestForm {
    /// The requested scopes, split on whitespace.
    ///
    /// ```
    /// # use scopes_runtime::PasswordRequestForm;
    /// # let form = PasswordRequestForm { grant_type: None, username: "u".into(), password: "p".into(),
    /// #     scope: " me  items ".into(), client_id: None, client_secret: None };
    /// assert_eq!(form.scopes(), ["me", "items"]);
    /// ```
    pub fn scopes(&self) -> Vec<&str> {
        self.scope.split_whitespace().collect()
    }

    /// Validates decoded `(name, value)` pairs into a form, collecting every problem.
    ///
    /// `strict` is RFC 6749 §4.3.2: `grant_type` is required, and any value but `password` is
    /// [`AuthError::UnsupportedGrantType`]. Otherwise `grant_type` is optional, as in FastAPI, and a wrong
    /// one is one more validation issue. Either way a password over [`MAX_PASSWORD_BYTES`] is refused.
    pub fn from_fields<K: AsRef<str>, V: Into<String>>(
        fields: impl IntoIterator<Item = (K, V)>,
        strict: bool,
    ) -> Result<Self, AuthError> {
        let fields = fields.into_iter().map(|(name, value)| (name.as_ref().to_owned(), value.into()));
        let names = ["grant_type", "username", "password", "scope", "client_id", "client_secret"];
        let [grant_type, username, password, scope, client_id, client_secret] = read_named(fields, strict, names)?;
        let raw = RawFields { grant_type, username, password, scope, client_id, client_secret };

        // Issues are listed in the order of the form's fields, as FastAPI does.
        let mut issues = Vec::new();
        match raw.grant_type.as_deref() {
            Some("password") => {}
            Some(_) if strict => return Err(AuthError::UnsupportedGrantType),
            Some(other) => issues.push(ValidationIssue::pattern_mismatch("grant_type", other, "^password$")),
            None if strict => issues.push(ValidationIssue::missing("grant_type")),
            None => {}
        }
        match raw.username.as_deref() {
            None => issues.push(ValidationIssue::missing("username")),
            Some(long) if long.len() > MAX_USERNAME_BYTES => {
                issues.push(ValidationIssue::too_long("username", MAX_USERNAME_BYTES))
            }
            Some(_) => {}
        }
        if raw.password.is_none() {
            issues.push(ValidationIssue::missing("password"));
        }
        if raw.password.as_ref().is_some_and(|p| p.len() > MAX_PASSWORD_BYTES) && issues.is_empty() {
            return Err(AuthError::PasswordTooLong);
        }
        match (raw.username, raw.password) {
            (Some(username), Some(password)) if issues.is_empty() => Ok(PasswordRequestForm {
                grant_type: raw.grant_type,
                username,
                password,
                scope: raw.scope.unwrap_or_default(),
                client_id: raw.client_id,
                client_secret: raw.client_secret,
            }),
            _ => Err(AuthError::InvalidForm(issues)),
        }
    }
}

#[derive(Default)]
struct RawFields {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    scope: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

/// Adds the headers every token endpoint response carries (RFC 6749 §5.1): the body holds credentials or
/// says something about them, so nothing may cache it.
pub(crate) fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Implements `FromRequest` for a form read from the body's fields by `$parse(fields, strict)`, refused in
/// the authority's [`ResponseStyle`](crate::ResponseStyle), marked `no-store`.
macro_rules! form_from_request {
    ($form:ty, $parse:path) => {
        impl<S> FromRequest<S> for $form
        where
            S: Send + Sync,
            Authority: FromRef<S>,
        {
            /// The refusal, in the authority's [`ResponseStyle`](crate::ResponseStyle), marked `no-store`.
            type Rejection = Response;

            async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
                let authority = Authority::from_ref(state);
                let read = async {
                    let fields = read_fields(request).await?;
                    $parse(fields, authority.request_parsing().is_strict())
                };
                read.await.map_err(|error| no_store(authority.refuse(&error)))
            }
        }
    };
}

form_from_request!(PasswordRequestForm, PasswordRequestForm::from_fields);
form_from_request!(TokenRequest, TokenRequest::from_fields);
form_from_request!(RevocationRequest, RevocationRequest::from_fields);

/// A token request: the password grant, or the refresh-token grant (RFC 6749 §6), told apart by
/// `grant_type`. Read as [`PasswordRequestForm`] is, from the same bodies.
///
/// ```
/// use scopes_runtime::issuing::TokenRequest;
/// let refresh = TokenRequest::from_fields([("grant_type", "refresh_token"), ("refresh_token", "abc")], true).unwrap();
/// assert!(matches!(refresh, TokenRequest::Refresh(form) if form.refresh_token == "abc" && form.scope.is_none()));
/// let password = TokenRequest::from_fields([("username", "johndoe"), ("password", "secret")], false).unwrap();
/// assert!(matches!(password, TokenRequest::Password(_)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenRequest {
    /// `grant_type=password` (or none, read leniently).
    Password(PasswordRequestForm),
    /// `grant_type=refresh_token`.
    Refresh(RefreshRequestForm),
}

impl From<PasswordRequestForm> for TokenRequest {
    fn from(form: PasswordRequestForm) -> Self {
        TokenRequest::Password(form)
    }
}

impl TokenRequest {
    /// Reads decoded `(name, value)` pairs: a refresh-token grant when `grant_type` is `refresh_token`,
    /// otherwise a password grant as [`PasswordRequestForm::from_fields`] reads it.
    pub fn from_fields<K: AsRef<str>, V: Into<String>>(
        fields: impl IntoIterator<Item = (K, V)>,
        strict: bool,
    ) -> Result<Self, AuthError> {
        let fields: Vec<(String, String)> =
            fields.into_iter().map(|(name, value)| (name.as_ref().to_owned(), value.into())).collect();
        let grant_type = fields.iter().rev().find(|(name, _)| name == "grant_type").map(|(_, value)| value.as_str());
        if grant_type != Some("refresh_token") {
            return PasswordRequestForm::from_fields(fields, strict).map(TokenRequest::Password);
        }
        let [grant_type, refresh_token, scope, client_id] =
            read_named(fields, strict, ["grant_type", "refresh_token", "scope", "client_id"])?;
        let Some(refresh_token) = refresh_token else {
            return Err(AuthError::InvalidForm(vec![ValidationIssue::missing("refresh_token")]));
        };
        if refresh_token.len() > MAX_REFRESH_TOKEN_BYTES {
            return Err(AuthError::InvalidForm(vec![ValidationIssue::too_long(
                "refresh_token",
                MAX_REFRESH_TOKEN_BYTES,
            )]));
        }
        debug_assert_eq!(grant_type.as_deref(), Some("refresh_token"));
        Ok(TokenRequest::Refresh(RefreshRequestForm { refresh_token, scope, client_id }))
    }
}

/// The fields of a refresh-token grant (RFC 6749 §6). Its `Debug` leaves the token out.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshRequestForm {
    /// The refresh token.
    pub refresh_token: String,
    /// The scopes asked for, space-separated: a subset of those granted with the refresh token. When
    /// absent, the same scopes as before.
    pub scope: Option<String>,
    /// The client identifier, if the client sent one.
    pub client_id: Option<String>,
}

impl std::fmt::Debug for RefreshRequestForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshRequestForm")
            .field("refresh_token", &"<redacted>")
            .field("scope", &self.scope)
            .field("client_id", &self.client_id)
            .finish()
    }
}

impl RefreshRequestForm {
    /// The scopes asked for, split on whitespace; `None` when the request names none.
    pub fn scopes(&self) -> Option<Vec<&str>> {
        self.scope.as_deref().map(|scope| scope.split_whitespace().collect())
    }
}

/// A token revocation request (RFC 7009 §2.1): `token`, and optionally `token_type_hint`. Its `Debug`
/// leaves the token out.
///
/// ```
/// use scopes_runtime::issuing::RevocationRequest;
/// let request = RevocationRequest::from_fields([("token", "abc"), ("token_type_hint", "refresh_token")], true).unwrap();
/// assert_eq!(request.token, "abc");
/// assert!(RevocationRequest::from_fields([("token_type_hint", "refresh_token")], true).is_err());
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct RevocationRequest {
    /// The token to revoke.
    pub token: String,
    /// What the client says the token is: `refresh_token` or `access_token`.
    pub token_type_hint: Option<String>,
}

impl std::fmt::Debug for RevocationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevocationRequest")
            .field("token", &"<redacted>")
            .field("token_type_hint", &self.token_type_hint)
            .finish()
    }
}

impl RevocationRequest {
    /// Reads decoded `(name, value)` pairs; `token` is required (RFC 7009 §2.1), and, read strictly, no
    /// field may repeat.
    pub fn from_fields<K: AsRef<str>, V: Into<String>>(
        fields: impl IntoIterator<Item = (K, V)>,
        strict: bool,
    ) -> Result<Self, AuthError> {
        let fields = fields.into_iter().map(|(name, value)| (name.as_ref().to_owned(), value.into()));
        let [token, token_type_hint] = read_named(fields, strict, ["token", "token_type_hint"])?;
        // Any length the body allows: an access token may be a long JWT.
        match token {
            Some(token) => Ok(RevocationRequest { token, token_type_hint }),
            None => Err(AuthError::InvalidForm(vec![ValidationIssue::missing("token")])),
        }
    }
}

/// The values of the fields `names` (the last of each, an empty one as absent), others ignored; read
/// strictly, a repeated field is refused (RFC 6749 §3.2).
fn read_named<const N: usize>(
    fields: impl IntoIterator<Item = (String, String)>,
    strict: bool,
    names: [&'static str; N],
) -> Result<[Option<String>; N], AuthError> {
    let mut values: [Option<String>; N] = std::array::from_fn(|_| None);
    let mut repeated: Vec<&'static str> = Vec::new();
    for (name, value) in fields {
        let Some(index) = names.iter().position(|known| *known == name) else { continue };
        if values[index].replace(value).is_some() && !repeated.contains(&names[index]) {
            repeated.push(names[index]);
        }
    }
    if strict && !repeated.is_empty() {
        return Err(AuthError::InvalidForm(repeated.into_iter().map(ValidationIssue::repeated).collect()));
    }
    Ok(values.map(|value| value.filter(|value| !value.is_empty())))
}

async fn read_fields(request: Request) -> Result<Vec<(String, String)>, AuthError> {
    let media_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let declared_length =
        request.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > MAX_FORM_BYTES as u64) {
        return Err(AuthError::PayloadTooLarge);
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_FORM_BYTES).await.map_err(|error| {
        let too_large = std::error::Error::source(&error).is_some_and(|s| s.is::<http_body_util::LengthLimitError>());
        if too_large { AuthError::PayloadTooLarge } else { unreadable() }
    })?;
    match media_type.as_str() {
        "application/x-www-form-urlencoded" => {
            Ok(form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        }
        "multipart/form-data" => multipart_fields(Request::from_parts(parts, axum::body::Body::from(body))).await,
        _ => Ok(Vec::new()),
    }
}

fn unreadable() -> AuthError {
    AuthError::Rejected { status: StatusCode::BAD_REQUEST, detail: "There was an error parsing the body".into() }
}

async fn multipart_fields(request: Request) -> Result<Vec<(String, String)>, AuthError> {
    let mut multipart = Multipart::from_request(request, &()).await.map_err(|_| unreadable())?;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.text().await.map_err(|_| unreadable())?;
        fields.push((name, value));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests;

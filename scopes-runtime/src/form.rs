//! The token endpoint's request form (RFC 6749 §4.3, as FastAPI's `OAuth2PasswordRequestForm` reads it).

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::{StatusCode, header};

use crate::{AuthError, ValidationIssue};

/// The fields of a password-grant token request.
///
/// Read from an `application/x-www-form-urlencoded` or `multipart/form-data` body; any other body reads as
/// an empty form. An empty value counts as absent; when a field repeats, the last value wins. A missing
/// `username` or `password`, or a `grant_type` other than `password`, is a 422 listing every problem in
/// FastAPI's shape.
///
/// ```
/// use axum::{Json, Router, routing::post};
/// use scopes_runtime::PasswordRequestForm;
///
/// async fn token(form: PasswordRequestForm) -> Json<Vec<String>> {
///     Json(form.scopes().into_iter().map(String::from).collect())
/// }
/// let app: Router = Router::new().route("/token", post(token));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(as = TokenRequest, description = "A password-grant token request (RFC 6749 §4.3)."))]
pub struct PasswordRequestForm {
    /// `password` when given.
    #[cfg_attr(feature = "openapi", schema(pattern = "^password$"))]
    pub grant_type: Option<String>,
    /// The username; never empty.
    pub username: String,
    /// The password; never empty.
    #[cfg_attr(feature = "openapi", schema(format = Password))]
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
    pub fn from_fields<K: AsRef<str>, V: Into<String>>(
        fields: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, AuthError> {
        let mut raw = RawFields::default();
        for (name, value) in fields {
            let value = value.into();
            let slot = match name.as_ref() {
                "grant_type" => &mut raw.grant_type,
                "username" => &mut raw.username,
                "password" => &mut raw.password,
                "scope" => &mut raw.scope,
                "client_id" => &mut raw.client_id,
                "client_secret" => &mut raw.client_secret,
                _ => continue,
            };
            *slot = Some(value).filter(|v| !v.is_empty());
        }

        // Issues are listed in the order of the form's fields, as FastAPI does.
        let mut issues = Vec::new();
        if let Some(grant_type) = raw.grant_type.as_deref().filter(|g| *g != "password") {
            issues.push(ValidationIssue::pattern_mismatch("grant_type", grant_type, "^password$"));
        }
        if raw.username.is_none() {
            issues.push(ValidationIssue::missing("username"));
        }
        if raw.password.is_none() {
            issues.push(ValidationIssue::missing("password"));
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

impl<S: Send + Sync> FromRequest<S> for PasswordRequestForm {
    type Rejection = AuthError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let media_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .map(|v| v.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let fields = match media_type.as_str() {
            "application/x-www-form-urlencoded" => {
                let body = Bytes::from_request(request, state).await.map_err(|rejection| AuthError::Rejected {
                    status: rejection.status(),
                    detail: rejection.body_text().into(),
                })?;
                form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()
            }
            "multipart/form-data" => multipart_fields(request, state).await?,
            _ => Vec::new(),
        };
        Self::from_fields(fields)
    }
}

async fn multipart_fields<S: Send + Sync>(request: Request, state: &S) -> Result<Vec<(String, String)>, AuthError> {
    let unreadable = || AuthError::Rejected {
        status: StatusCode::BAD_REQUEST,
        detail: "There was an error parsing the body".into(),
    };
    let mut multipart = Multipart::from_request(request, state).await.map_err(|_| unreadable())?;
    let mut fields = Vec::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| unreadable())? {
        let name = field.name().unwrap_or_default().to_owned();
        let value = field.text().await.map_err(|_| unreadable())?;
        fields.push((name, value));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(fields: &[(&str, &str)]) -> Vec<ValidationIssue> {
        match PasswordRequestForm::from_fields(fields.iter().copied()) {
            Err(AuthError::InvalidForm(issues)) => issues,
            other => panic!("expected a 422, got {other:?}"),
        }
    }

    #[test]
    fn complete_form_is_read() {
        let form =
            PasswordRequestForm::from_fields([("username", "johndoe"), ("password", "secret"), ("scope", "me items")])
                .unwrap();
        assert_eq!(form.username, "johndoe");
        assert_eq!(form.scopes(), ["me", "items"]);
        assert_eq!(form.grant_type, None);
    }

    #[test]
    fn missing_and_empty_fields_are_listed_in_form_order() {
        assert_eq!(issues(&[]), [ValidationIssue::missing("username"), ValidationIssue::missing("password")]);
        assert_eq!(issues(&[("username", ""), ("password", "x")]), [ValidationIssue::missing("username")]);
        assert_eq!(
            issues(&[("grant_type", "client_credentials")]),
            [
                ValidationIssue::pattern_mismatch("grant_type", "client_credentials", "^password$"),
                ValidationIssue::missing("username"),
                ValidationIssue::missing("password"),
            ]
        );
    }

    #[test]
    fn grant_type_must_be_exactly_password() {
        for bad in ["Password", "password ", "passwordx", "password\n"] {
            assert_eq!(issues(&[("grant_type", bad), ("username", "u"), ("password", "p")]).len(), 1, "{bad:?}");
        }
        assert!(
            PasswordRequestForm::from_fields([("grant_type", "password"), ("username", "u"), ("password", "p")])
                .is_ok()
        );
        assert!(PasswordRequestForm::from_fields([("grant_type", ""), ("username", "u"), ("password", "p")]).is_ok());
    }

    #[test]
    fn last_repeated_value_wins() {
        let form = PasswordRequestForm::from_fields([("username", "a"), ("username", "b"), ("password", "p")]).unwrap();
        assert_eq!(form.username, "b");
    }
}

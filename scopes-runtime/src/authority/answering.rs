//! How an authority's refusals are answered and its requests read: the response style, the
//! protected-resource metadata every challenge names, request parsing, and [`restyle`] for refusals that
//! handlers return themselves.

use axum::extract::State;
use axum::response::Response;

use super::Authority;
use crate::answering::error::{AuthError, DefaultStyled};
use crate::answering::style::ResponseStyle;
use crate::verifying::parsing::RequestParsing;

impl Authority {
    /// Answers refusals in `style` (the default is [`ResponseStyle::default`], RFC 6750 / RFC 6749). How
    /// requests are read is [`with_request_parsing`](Self::with_request_parsing)'s business.
    ///
    /// ```
    /// use scopes_runtime::{Authority, ResponseStyle, verifying::RequestParsing};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_response_style(ResponseStyle::Seed);
    /// assert_eq!(authority.request_parsing(), RequestParsing::Strict);
    /// ```
    pub fn with_response_style(mut self, style: ResponseStyle) -> Self {
        self.inner_mut().response_style = style;
        self
    }

    /// How refusals are answered.
    pub fn response_style(&self) -> &ResponseStyle {
        &self.inner.response_style
    }

    /// Names `url`, where this API's protected-resource metadata is served (RFC 9728 §5.1; see
    /// [`ProtectedResourceMetadata`](crate::describing::ProtectedResourceMetadata)), in every `Bearer` challenge:
    /// `resource_metadata="..."`, as the MCP authorization spec requires of resource servers, so a client
    /// refused here learns where to get a token. A custom style's responses are its own.
    ///
    /// ```
    /// use scopes_runtime::{AuthError, Authority};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef")
    ///     .unwrap()
    ///     .with_resource_metadata("https://api.example/.well-known/oauth-protected-resource");
    /// let refused = authority.refuse(&AuthError::MissingCredentials);
    /// assert_eq!(
    ///     refused.headers()["www-authenticate"],
    ///     r#"Bearer realm="api", resource_metadata="https://api.example/.well-known/oauth-protected-resource""#
    /// );
    /// ```
    pub fn with_resource_metadata(mut self, url: impl Into<String>) -> Self {
        self.inner_mut().resource_metadata = Some(url.into());
        self
    }

    /// The answer to a request refused for `error`: in this authority's style, with its challenge
    /// attributes.
    pub fn refuse(&self, error: &AuthError) -> Response {
        match &self.inner.resource_metadata {
            Some(url) => self.inner.response_style.render_with(error, &[("resource_metadata", url)]),
            None => self.inner.response_style.render(error),
        }
    }

    /// Reads requests as `parsing` says (the default is [`RequestParsing::Strict`], as the RFCs say):
    /// bearer headers here, token requests at the [`TokenEndpoint`](crate::TokenEndpoint).
    ///
    /// ```
    /// use scopes_runtime::{Authority, ResponseStyle, verifying::RequestParsing};
    /// // FastAPI's answers, and FastAPI's reading of requests, for its clients:
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef")
    ///     .unwrap()
    ///     .with_response_style(ResponseStyle::Seed)
    ///     .with_request_parsing(RequestParsing::Lenient);
    /// assert!(!authority.request_parsing().is_strict());
    /// ```
    pub fn with_request_parsing(mut self, parsing: RequestParsing) -> Self {
        self.inner_mut().request_parsing = parsing;
        self
    }

    /// How strictly requests are read.
    pub fn request_parsing(&self) -> RequestParsing {
        self.inner.request_parsing
    }
}

/// Answers, in the authority's style, refusals that handlers returned as [`AuthError`] (whose own
/// `IntoResponse` can only use the library's default style, having no state to read). Layer it over the
/// app with axum's `map_response_with_state`; other responses pass through untouched.
///
/// ```
/// use axum::{Router, middleware::map_response_with_state, routing::get};
/// use scopes_runtime::{AuthError, Authority, ResponseStyle, authority::restyle};
///
/// async fn disabled() -> Result<&'static str, AuthError> {
///     Err(AuthError::InactiveUser)
/// }
///
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_response_style(ResponseStyle::Seed);
/// let app: Router = Router::new().route("/", get(disabled)).layer(map_response_with_state(authority, restyle));
/// ```
///
/// A [`SecureRouter`](crate::routing::SecureRouter) does this itself for its `#[requires]` handlers: the
/// layer is for the other routes of an app.
pub async fn restyle(State(authority): State<Authority>, response: Response) -> Response {
    authority.restyled(response)
}

impl Authority {
    /// `response` answered in this authority's style when it is a refusal a handler returned as an
    /// [`AuthError`]; any other response as it is.
    pub(crate) fn restyled(&self, mut response: Response) -> Response {
        match response.extensions_mut().remove::<DefaultStyled>() {
            Some(DefaultStyled(error)) => self.refuse(&error),
            None => response,
        }
    }
}

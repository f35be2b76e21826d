//! How an authority's refusals are answered and its requests read: the response style, the
//! protected-resource metadata every challenge names, the schemes challenged with (DPoP), request parsing, and [`restyle`] for refusals that
//! handlers return themselves.

use axum::extract::State;
use axum::response::Response;

use super::Authority;
use crate::answering::error::{AuthError, DefaultStyled};
use crate::answering::style::{ResponseStyle, Schemes};
use crate::verifying::dpop::{Dpop, DpopMode};
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
        self.refuse_on_route(error, None)
    }

    /// The answer to a request refused for `error` on a route whose own DPoP mode is `route_dpop` (its
    /// `#[requires(dpop = ...)]`), which the challenge's schemes follow.
    pub(crate) fn refuse_on_route(&self, error: &AuthError, route_dpop: Option<DpopMode>) -> Response {
        let schemes = self.challenge_schemes(route_dpop);
        match &self.inner.resource_metadata {
            Some(url) => self.inner.response_style.render_with(error, &[("resource_metadata", url)], schemes),
            None => self.inner.response_style.render_with(error, &[], schemes),
        }
    }

    /// The schemes refusals challenge with: `Bearer` unless DPoP is required, `DPoP` where it is taken.
    fn challenge_schemes(&self, route_dpop: Option<DpopMode>) -> Schemes<'_> {
        match (&self.inner.dpop, self.dpop_mode(route_dpop)) {
            (Some(dpop), mode) if mode != DpopMode::Off => {
                Schemes { bearer: mode == DpopMode::Allowed, dpop_algs: Some(dpop.algs()) }
            }
            _ => Schemes::BEARER,
        }
    }

    /// The DPoP mode of a route whose own is `route_dpop`: its own if it has one, else the authority's.
    pub(crate) fn dpop_mode(&self, route_dpop: Option<DpopMode>) -> DpopMode {
        route_dpop.unwrap_or_else(|| self.inner.dpop.as_ref().map_or(DpopMode::Off, Dpop::mode))
    }

    /// Takes DPoP-bound tokens (RFC 9449) as `dpop` says: [`DpopMode::Allowed`] beside bearer tokens, or
    /// [`DpopMode::Required`] alone, each with a proof of the key it is bound to, checked against the
    /// request and never taken twice. Refusals then challenge with `DPoP algs="..."` too.
    ///
    /// Whatever the mode (and without this call), a token bound to a key (`cnf.jkt`) is refused as a bearer
    /// token, and so is a token bound some other way (`cnf` without `jkt`), which no check here could
    /// hold to its binding.
    ///
    /// ```
    /// use scopes_runtime::{AuthError, Authority};
    /// use scopes_runtime::verifying::dpop::{Dpop, DpopMode};
    ///
    /// let dpop = Dpop::new(DpopMode::Allowed, "https://api.example").unwrap();
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_dpop(dpop);
    /// let refused = authority.refuse(&AuthError::MissingCredentials);
    /// let challenge = refused.headers()["www-authenticate"].to_str().unwrap();
    /// assert!(challenge.starts_with(r#"Bearer realm="api", DPoP realm="api", algs="ES256"#), "{challenge}");
    /// ```
    pub fn with_dpop(mut self, dpop: Dpop) -> Self {
        self.inner_mut().dpop = Some(dpop);
        self
    }

    /// The DPoP setting, when [`with_dpop`](Self::with_dpop) made one.
    pub fn dpop(&self) -> Option<&Dpop> {
        self.inner.dpop.as_ref()
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

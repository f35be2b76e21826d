//! How requests are read: how strictly ([`RequestParsing`]), bearer headers here ([`bearer`](super::bearer)),
//! token requests at the token endpoint; and the most of a token request that is read. Beside the bearer
//! reader, apart from how refusals look.

/// How strictly requests are read, apart from how refusals look: set it on the
/// [`Authority`](crate::Authority) with [`with_request_parsing`](crate::Authority::with_request_parsing).
///
/// ```
/// use scopes_runtime::verifying::RequestParsing;
/// assert_eq!(RequestParsing::default(), RequestParsing::Strict);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RequestParsing {
    /// As the RFCs say: several `Authorization` headers, or a token that is empty or not an RFC 6750
    /// `b64token`, are malformed (400 `invalid_request`); the token endpoint requires `grant_type`, refuses
    /// repeated parameters (RFC 6749 §3.2) and answers an undeclared scope with `invalid_scope`.
    #[default]
    Strict,
    /// As FastAPI reads requests, for its clients: the first `Authorization` header is read and an oddly
    /// written token is simply invalid; `grant_type` is optional, a repeated parameter's last value is read,
    /// and an undeclared scope is left out of the grant. What [`ResponseStyle::Seed`](crate::ResponseStyle::Seed) is usually paired with.
    Lenient,
}

impl RequestParsing {
    /// Whether malformed requests are refused as such.
    pub fn is_strict(self) -> bool {
        self == RequestParsing::Strict
    }
}

/// The longest username read, in bytes; a longer one is a validation error, refused before any check.
pub const MAX_USERNAME_BYTES: usize = 256;

/// The longest password read, whole: Argon2id has no length limit of its own (unlike bcrypt's 72 bytes,
/// which cut passwords short), and this one bounds the work a request can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// The largest token request body read; larger ones are refused with 413.
pub const MAX_FORM_BYTES: usize = 16 * 1024;

/// The longest refresh token read; the tokens this crate issues are 43 characters.
pub const MAX_REFRESH_TOKEN_BYTES: usize = 512;

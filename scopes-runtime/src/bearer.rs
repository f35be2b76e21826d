//! Reading the bearer token from a request's `Authorization` header (RFC 6750 §2.1).

use axum::http::{HeaderMap, header};

/// What the `Authorization` header of a request holds.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue, header};
/// use scopes_runtime::bearer::{Credentials, bearer_credentials};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc.def.ghi"));
/// assert_eq!(bearer_credentials(&headers), Credentials::Bearer("abc.def.ghi"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header, or a scheme other than `Bearer`.
    Missing,
    /// A `Bearer` credential; the token text after the first space, possibly empty.
    Bearer(&'a str),
    /// A `Bearer` credential whose token is not visible ASCII text, so it cannot be a token.
    Malformed,
}

/// Reads the first `Authorization` header as FastAPI's `OAuth2PasswordBearer` does: the scheme is the
/// text before the first space, compared case-insensitively with `Bearer`; the token is the rest.
pub fn bearer_credentials(headers: &HeaderMap) -> Credentials<'_> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Credentials::Missing;
    };
    let bytes = value.as_bytes();
    let (scheme, token) = match bytes.iter().position(|&b| b == b' ') {
        Some(space) => (&bytes[..space], &bytes[space + 1..]),
        None => (bytes, &[][..]),
    };
    if !scheme.eq_ignore_ascii_case(b"bearer") {
        return Credentials::Missing;
    }
    match std::str::from_utf8(token) {
        Ok(token) if token.is_ascii() => Credentials::Bearer(token),
        _ => Credentials::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn parse(values: &[&[u8]]) -> Credentials<'static> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        // Leak so the borrowed token can be returned from this helper; tests only.
        let headers: &'static HeaderMap = Box::leak(Box::new(headers));
        bearer_credentials(headers)
    }

    #[test]
    fn no_header_is_missing() {
        assert_eq!(parse(&[]), Credentials::Missing);
    }

    #[test]
    fn scheme_is_case_insensitive() {
        for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
            let value = format!("{scheme} tok");
            assert_eq!(parse(&[value.as_bytes()]), Credentials::Bearer("tok"), "{scheme}");
        }
    }

    #[test]
    fn other_schemes_are_missing() {
        for value in [&b"Basic dXNlcjpwYXNz"[..], b"Token abc", b"Bearerx abc", b"", b" Bearer abc"] {
            assert_eq!(parse(&[value]), Credentials::Missing, "{value:?}");
        }
    }

    #[test]
    fn token_is_everything_after_the_first_space() {
        assert_eq!(parse(&[b"Bearer"]), Credentials::Bearer(""));
        assert_eq!(parse(&[b"Bearer "]), Credentials::Bearer(""));
        assert_eq!(parse(&[b"Bearer  two"]), Credentials::Bearer(" two"));
        assert_eq!(parse(&[b"Bearer a b"]), Credentials::Bearer("a b"));
    }

    #[test]
    fn first_header_wins() {
        assert_eq!(parse(&[b"Bearer first", b"Bearer second"]), Credentials::Bearer("first"));
        assert_eq!(parse(&[b"Basic x", b"Bearer second"]), Credentials::Missing);
    }

    #[test]
    fn non_ascii_token_is_malformed() {
        assert_eq!(parse(&[b"Bearer \xff\xfe"]), Credentials::Malformed);
        assert_eq!(parse(&[b"Bearer caf\xc3\xa9"]), Credentials::Malformed);
    }
}

//! Reading the access token from a request's `Authorization` header: a bearer token (RFC 6750 §2.1), or a
//! DPoP-bound one (RFC 9449 §7.1, the same grammar under the `DPoP` scheme) with its proof header.

use axum::http::{HeaderMap, header};

/// What the `Authorization` header of a request holds.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue, header};
/// use scopes_runtime::verifying::bearer::{Credentials, bearer_credentials};
///
/// let mut headers = HeaderMap::new();
/// headers.insert(header::AUTHORIZATION, HeaderValue::from_static("bearer abc.def.ghi"));
/// assert_eq!(bearer_credentials(&headers, true), Credentials::Bearer("abc.def.ghi"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credentials<'a> {
    /// No `Authorization` header, or a scheme other than `Bearer`.
    Missing,
    /// A `Bearer` credential: the token text after the first space.
    Bearer(&'a str),
    /// A `DPoP` credential (RFC 9449 §7.1): a DPoP-bound token, whose proof is in the `DPoP` header.
    Dpop(&'a str),
    /// `Bearer` credentials that cannot hold a token, and why.
    Malformed(&'static str),
}

/// Tokens longer than this are refused unread; real JWTs are a few hundred bytes.
pub const MAX_TOKEN_LENGTH: usize = 8 * 1024;

/// Reads the `Authorization` header as FastAPI's `OAuth2PasswordBearer` does: the scheme is the text
/// before the first space, compared case-insensitively with `Bearer`; the token is the rest.
///
/// `strict` (RFC 6750 §2.1) also refuses several `Authorization` headers, and a token that is empty or
/// not a `b64token`; otherwise the first header is read and an odd token is left to fail verification.
/// Either way a token that is not visible ASCII, or longer than [`MAX_TOKEN_LENGTH`], is malformed.
pub fn bearer_credentials(headers: &HeaderMap, strict: bool) -> Credentials<'_> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Credentials::Missing;
    };
    if strict && values.next().is_some() {
        return Credentials::Malformed("several Authorization headers");
    }
    let bytes = value.as_bytes();
    let (scheme, token) = match bytes.iter().position(|&b| b == b' ') {
        Some(space) => (&bytes[..space], &bytes[space + 1..]),
        None => (bytes, &[][..]),
    };
    let dpop = scheme.eq_ignore_ascii_case(b"dpop");
    if !dpop && !scheme.eq_ignore_ascii_case(b"bearer") {
        return Credentials::Missing;
    }
    if token.len() > MAX_TOKEN_LENGTH {
        return Credentials::Malformed("the token is too long");
    }
    // Every request with credentials comes through here, so the common case costs one branch-free pass
    // over the token (a fold, which vectorizes); only a refused token is looked at again, to say why.
    let well_formed = if strict { is_b64token(token) } else { is_visible_ascii(token) };
    if !well_formed {
        return Credentials::Malformed(if !is_visible_ascii(token) {
            "the token is not visible ASCII"
        } else if token.is_empty() {
            "the token is empty"
        } else {
            // RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
            "the token has characters outside RFC 6750's b64token"
        });
    }
    // Only ASCII by now: always UTF-8.
    match std::str::from_utf8(token) {
        Ok(token) if dpop => Credentials::Dpop(token),
        Ok(token) => Credentials::Bearer(token),
        Err(_) => Credentials::Malformed("the token is not visible ASCII"),
    }
}

/// The request's DPoP proof (the `DPoP` header, RFC 9449 §4.1): `Ok(None)` without one; refused when there
/// are several, or it is not visible ASCII.
///
/// ```
/// use axum::http::{HeaderMap, HeaderValue};
/// use scopes_runtime::verifying::bearer::dpop_proof;
///
/// let mut headers = HeaderMap::new();
/// assert_eq!(dpop_proof(&headers), Ok(None));
/// headers.insert("dpop", HeaderValue::from_static("a.b.c"));
/// assert_eq!(dpop_proof(&headers), Ok(Some("a.b.c")));
/// headers.append("dpop", HeaderValue::from_static("d.e.f"));
/// assert!(dpop_proof(&headers).is_err());
/// ```
pub fn dpop_proof(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut values = headers.get_all("dpop").iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err("several DPoP headers");
    }
    value.to_str().map(Some).map_err(|_| "the DPoP proof is not visible ASCII")
}

/// Every byte is visible ASCII or a space.
fn is_visible_ascii(token: &[u8]) -> bool {
    token.iter().fold(true, |ok, &b| ok & (b.wrapping_sub(b' ') <= b'~' - b' '))
}

/// RFC 6750's `b64token`: at least one `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, then any
/// number of `=`.
fn is_b64token(token: &[u8]) -> bool {
    let body_end = token.iter().rposition(|&b| b != b'=').map_or(0, |last| last + 1);
    let body = &token[..body_end];
    !body.is_empty() && body.iter().fold(true, |ok, &b| ok & is_b64token_char(b))
}

/// `ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/"`, as ranges and without branches, so a fold over
/// it vectorizes.
#[inline]
fn is_b64token_char(b: u8) -> bool {
    // `+ , - . / 0-9` is one run of bytes; `,` is the one in it outside the set.
    let symbol_or_digit = b.wrapping_sub(b'+') <= b'9' - b'+';
    let letter = (b | 0x20).wrapping_sub(b'a') < 26;
    (symbol_or_digit & (b != b',')) | letter | (b == b'_') | (b == b'~')
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn parse(values: &[&[u8]]) -> Credentials<'static> {
        parse_with(values, false)
    }

    fn strict(values: &[&[u8]]) -> Credentials<'static> {
        parse_with(values, true)
    }

    fn parse_with(values: &[&[u8]], strict: bool) -> Credentials<'static> {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::AUTHORIZATION, HeaderValue::from_bytes(value).unwrap());
        }
        // Leak so the borrowed token can be returned from this helper; tests only.
        let headers: &'static HeaderMap = Box::leak(Box::new(headers));
        bearer_credentials(headers, strict)
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
    fn the_dpop_scheme_is_read_as_bearer_is() {
        assert_eq!(parse(&[b"DPoP tok"]), Credentials::Dpop("tok"));
        assert_eq!(strict(&[b"dpop abc.def"]), Credentials::Dpop("abc.def"));
        assert_eq!(
            strict(&[b"DPoP a b"]),
            Credentials::Malformed("the token has characters outside RFC 6750's b64token")
        );
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
    fn non_ascii_or_huge_tokens_are_malformed_in_either_mode() {
        for value in [&b"Bearer \xff\xfe"[..], b"Bearer caf\xc3\xa9", b"Bearer a\tb"] {
            assert!(matches!(parse(&[value]), Credentials::Malformed(_)), "{value:?}");
            assert!(matches!(strict(&[value]), Credentials::Malformed(_)), "{value:?}");
        }
        let huge = format!("Bearer {}", "a".repeat(MAX_TOKEN_LENGTH + 1));
        assert_eq!(parse(&[huge.as_bytes()]), Credentials::Malformed("the token is too long"));
        let largest = format!("Bearer {}", "a".repeat(MAX_TOKEN_LENGTH));
        assert!(matches!(strict(&[largest.as_bytes()]), Credentials::Bearer(_)));
    }

    #[test]
    fn byte_classes_are_the_grammars() {
        for b in 0..=u8::MAX {
            let b64token = b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
            assert_eq!(is_b64token_char(b), b64token, "b64token byte {b:#04x}");
            assert_eq!(is_visible_ascii(&[b]), b == b' ' || b.is_ascii_graphic(), "visible byte {b:#04x}");
        }
    }

    #[test]
    fn refusals_say_why() {
        let why = |value: &[u8]| match strict(&[value]) {
            Credentials::Malformed(why) => why,
            other => panic!("{value:?} gave {other:?}"),
        };
        assert_eq!(why(b"Bearer caf\xc3\xa9"), "the token is not visible ASCII");
        assert_eq!(why(b"Bearer a b"), "the token has characters outside RFC 6750's b64token");
        assert_eq!(why(b"Bearer ="), "the token has characters outside RFC 6750's b64token");
    }

    #[test]
    fn strict_mode_refuses_what_rfc_6750_calls_malformed() {
        assert_eq!(strict(&[b"Bearer a", b"Bearer b"]), Credentials::Malformed("several Authorization headers"));
        assert_eq!(strict(&[b"Bearer"]), Credentials::Malformed("the token is empty"));
        assert_eq!(strict(&[b"Bearer "]), Credentials::Malformed("the token is empty"));
        for bad in [&b"Bearer a b"[..], b"Bearer  two", b"Bearer a,b", b"Bearer =abc", b"Bearer a\"b", b"Bearer ===="] {
            assert!(matches!(strict(&[bad]), Credentials::Malformed(_)), "{bad:?}");
        }
        for good in [&b"Bearer abc.DEF-_~+/"[..], b"Bearer abc==", b"bearer x"] {
            assert!(matches!(strict(&[good]), Credentials::Bearer(_)), "{good:?}");
        }
    }
}

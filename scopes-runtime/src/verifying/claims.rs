//! The claims of a verified token ([`Claims`]), how the seed's tokens write their scopes ([`ClaimFormat`]),
//! and reading the claims of a token signed with a shared secret without buffering them.

use serde::{Deserialize, Serialize};

use super::error::TokenError;
use super::scope_claim::ScopeClaim;

/// The claims of a verified access token: those authorization uses, and every other one in
/// [`extra`](Self::extra), readable typed through serde ([`claim`](Self::claim)).
///
/// On the wire the scopes are the seed's `scopes` list or RFC 9068's `scope` string, as the
/// [`ClaimFormat`] says (or a provider's claim, as its [`ScopeClaim`](crate::ScopeClaim) says); a token without them grants
/// none.
///
/// ```
/// use scopes_runtime::Claims;
/// let claims: Claims = serde_json::from_str(r#"{"sub":"johndoe","exp":1,"name":"John Doe","age":42}"#).unwrap();
/// assert!(claims.scopes.is_empty());
/// assert_eq!(claims.claim::<String>("name").unwrap().as_deref(), Some("John Doe"));
/// assert_eq!(claims.claim::<u8>("age").unwrap(), Some(42));
/// assert!(claims.claim::<String>("age").is_err(), "a claim of another type is an error, not a silent None");
/// assert_eq!(claims.claim::<String>("email").unwrap(), None);
///
/// let minted = Claims::new("johndoe", ["me", "items"], 1_900_000_000);
/// assert_eq!(minted.scopes, ["me", "items"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: the username the token was issued to.
    pub sub: String,
    /// The granted scopes.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Expiry, in seconds since the Unix epoch. Required.
    pub exp: u64,
    /// Not-before, in seconds since the Unix epoch. Honoured when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// Every other claim, as the token carries it: `iss`, `aud`, `iat`, `jti`, `client_id`, a provider's
    /// `name` or `email`... (the claim the scopes were read from is in [`scopes`](Self::scopes)). Signed
    /// along with the rest by [`Authority::sign`](crate::Authority::sign), except where it names a claim the authority writes.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl crate::observing::Subjected for Claims {
    fn subject(&self) -> &str {
        &self.sub
    }

    fn issuer(&self) -> Option<&str> {
        self.extra.get("iss").and_then(serde_json::Value::as_str)
    }
}

impl Claims {
    /// The granted scopes as a [`Granted`](crate::registry::Granted), for a principal to keep: a check in
    /// code then asks `user.granted.holds(scope!("admin"))`, through the hierarchy.
    ///
    /// ```
    /// use scopes_runtime::{Claims, Scope};
    /// const ITEMS: Scope = Scope::new("items");
    /// assert!(Claims::new("johndoe", ["items"], 4_000_000_000).granted().holds(ITEMS));
    /// ```
    pub fn granted(&self) -> crate::registry::Granted {
        crate::registry::Granted::new(&self.scopes)
    }

    /// Claims for `sub`, granting `scopes`, expiring at `exp` (seconds since the Unix epoch).
    pub fn new<S: Into<String>>(sub: impl Into<String>, scopes: impl IntoIterator<Item = S>, exp: u64) -> Self {
        Claims {
            sub: sub.into(),
            scopes: scopes.into_iter().map(Into::into).collect(),
            exp,
            nbf: None,
            extra: serde_json::Map::new(),
        }
    }

    /// The claim `name` of [`extra`](Self::extra), read as a `T`: `Ok(None)` when the token has no such
    /// claim, an error when it has one that is not a `T`. In
    /// [`Principal::from_claims`](crate::Principal::from_claims), `?` makes that error an invalid token
    /// (401), as a token whose claims the app cannot read is one.
    ///
    /// ```
    /// use scopes_runtime::{AuthError, Claims};
    ///
    /// fn email(claims: &Claims) -> Result<Option<String>, AuthError> {
    ///     Ok(claims.claim::<String>("email")?)
    /// }
    ///
    /// let mut claims = Claims::new("johndoe", ["me"], 4_000_000_000);
    /// assert_eq!(email(&claims).unwrap(), None);
    /// claims.extra.insert("email".into(), "johndoe@example.com".into());
    /// assert_eq!(email(&claims).unwrap().as_deref(), Some("johndoe@example.com"));
    /// claims.extra.insert("email".into(), 42.into());
    /// assert!(matches!(email(&claims), Err(AuthError::InvalidToken { .. })));
    /// ```
    pub fn claim<T: serde::de::DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ClaimError> {
        self.extra
            .get(name)
            .map(|value| T::deserialize(value))
            .transpose()
            .map_err(|source| ClaimError { name: name.to_owned(), source })
    }

    /// The claims of a verified token's JSON payload, its scopes read from `scope_claim`: `sub` must be a
    /// string and `exp` a number; what is read into a field is not repeated in [`extra`](Self::extra).
    pub(crate) fn from_json(claims: serde_json::Value, scope_claim: &ScopeClaim) -> Result<Self, TokenError> {
        let scopes = scope_claim.read(&claims)?;
        let serde_json::Value::Object(mut extra) = claims else {
            return Err(TokenError::InvalidClaims("the claims are not a JSON object".into()));
        };
        let sub = match extra.remove("sub") {
            Some(serde_json::Value::String(sub)) => sub,
            _ => return Err(TokenError::InvalidClaims("`sub` is missing or not a string".into())),
        };
        // NumericDate may be fractional (RFC 7519 §2); jsonwebtoken has already checked both.
        let mut seconds =
            |name: &str| extra.remove(name).as_ref().and_then(serde_json::Value::as_f64).map(|t| t.max(0.0) as u64);
        let exp = seconds("exp").ok_or_else(|| TokenError::InvalidClaims("`exp` is missing".into()))?;
        let nbf = seconds("nbf");
        // `scopes` is the field's own name; the claim read is in `scopes` already.
        extra.remove("scopes");
        if let Some(name) = scope_claim.top_level_name() {
            extra.remove(name);
        }
        Ok(Claims { sub, scopes, exp, nbf, extra })
    }
}

/// How the granted scopes are written in a token.
///
/// ```
/// use scopes_runtime::{Authority, verifying::ClaimFormat};
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_claim_format(ClaimFormat::ScopeString);
/// let token = authority.issue("johndoe", &["me", "items"]).unwrap();
/// assert_eq!(authority.verify(&token).unwrap().scopes, ["me", "items"]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClaimFormat {
    /// `"scopes": ["me", "items"]`, as FastAPI's tutorial writes them.
    #[default]
    ScopesList,
    /// `"scope": "me items"`, RFC 9068's space-separated string (RFC 8693 §4.2).
    ScopeString,
}

/// The claims as they are read from a verified token, in either [`ClaimFormat`]; `iss` and `aud` (which
/// jsonwebtoken has checked against the configuration) among the rest.
pub(crate) struct ReceivedClaims {
    pub(crate) sub: String,
    pub(crate) scopes: Option<Vec<String>>,
    pub(crate) exp: u64,
    pub(crate) nbf: Option<u64>,
    pub(crate) extra: serde_json::Map<String, serde_json::Value>,
}

/// By hand rather than with `#[serde(flatten)]`, which buffers every claim into an intermediate value
/// first: on the verifying path of every request, that cost 4% of a request's instructions.
impl<'de> Deserialize<'de> for ReceivedClaims {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = ReceivedClaims;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object of claims")
            }

            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<ReceivedClaims, A::Error> {
                use serde::de::Error;
                let (mut sub, mut scopes, mut exp, mut nbf) = (None, None, None, None);
                let mut extra = serde_json::Map::new();
                let duplicate = |name: &str| A::Error::custom(format!("duplicate `{name}`"));
                while let Some(name) = map.next_key::<ClaimName>()? {
                    match name {
                        ClaimName::Sub if sub.is_none() => sub = Some(map.next_value()?),
                        ClaimName::Scopes if scopes.is_none() => scopes = Some(map.next_value()?),
                        ClaimName::Exp if exp.is_none() => exp = Some(map.next_value()?),
                        ClaimName::Nbf if nbf.is_none() => nbf = Some(map.next_value()?),
                        ClaimName::Sub => return Err(duplicate("sub")),
                        ClaimName::Scopes => return Err(duplicate("scopes")),
                        ClaimName::Exp => return Err(duplicate("exp")),
                        ClaimName::Nbf => return Err(duplicate("nbf")),
                        ClaimName::Other(name) => {
                            extra.insert(name, map.next_value()?);
                        }
                    }
                }
                Ok(ReceivedClaims {
                    sub: sub.ok_or_else(|| A::Error::missing_field("sub"))?,
                    scopes: scopes.flatten(),
                    exp: exp.ok_or_else(|| A::Error::missing_field("exp"))?,
                    nbf: nbf.flatten(),
                    extra,
                })
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

/// A claim's name, matched without allocating unless it is one `ReceivedClaims` keeps in `extra`.
enum ClaimName {
    Sub,
    Scopes,
    Exp,
    Nbf,
    Other(String),
}

impl<'de> Deserialize<'de> for ClaimName {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ClaimName;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a claim name")
            }

            fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<ClaimName, E> {
                Ok(match name {
                    "sub" => ClaimName::Sub,
                    "scopes" => ClaimName::Scopes,
                    "exp" => ClaimName::Exp,
                    "nbf" => ClaimName::Nbf,
                    other => ClaimName::Other(other.to_owned()),
                })
            }
        }
        deserializer.deserialize_identifier(Visitor)
    }
}

/// A claim the token carries in another shape than the app reads it ([`Claims::claim`]). It converts into
/// [`AuthError::InvalidToken`](crate::AuthError::InvalidToken), so `?` refuses the token where a principal
/// is made from it.
#[derive(Debug, thiserror::Error)]
#[error("the token's claim `{name}` is not of the type read: {source}")]
pub struct ClaimError {
    name: String,
    #[source]
    source: serde_json::Error,
}

impl ClaimError {
    /// The claim's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

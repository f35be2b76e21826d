//! The [`Policy`] every token is held to, whatever verifies it: issuers, audiences, clock leeway, required
//! claims, the header's `typ`, and where the scopes are read. Held once, by the
//! [`Authority`](crate::authority::Authority), and handed to its [`Verifier`](super::verifier::Verifier).

use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::{Algorithm, DecodingKey, Header, Validation};

use super::claims::Claims;
use super::error::TokenError;
use super::scope_claim::ScopeClaim;

/// Every algorithm jsonwebtoken verifies; the policy keeps one `Validation` for each, since jsonwebtoken
/// checks one family of algorithms at a time and a token is checked with its key's algorithm, never its
/// header's.
const ALGORITHMS: [Algorithm; 12] = [
    Algorithm::HS256,
    Algorithm::HS384,
    Algorithm::HS512,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The registered claims jsonwebtoken itself can require; any other required claim is checked here.
const SPEC_CLAIMS: [&str; 5] = ["exp", "nbf", "iss", "aud", "sub"];

/// What a token must be to be accepted, apart from its signature: `exp` (always required) and `nbf` within
/// the clock leeway, `iss` one of the issuers and `aud` naming one of the audiences when those are set,
/// the required claims present, and the header's `typ` the required one. It also says where the token's
/// scopes are ([`ScopeClaim`]).
///
/// The [`Authority`](crate::authority::Authority) owns one and hands it to its
/// [`Verifier`](super::verifier::Verifier): a verifier of JWTs decodes with [`decode`](Self::decode), which
/// applies all of it; any other verifier (an opaque token looked up, say) holds the claims it found to it
/// with [`check`](Self::check).
///
/// ```
/// use std::time::Duration;
/// use scopes_runtime::verifying::{Policy, ScopeClaim};
///
/// let policy = Policy::new()
///     .with_issuer("https://auth.example")
///     .with_audience("https://api.example")
///     .with_leeway(Duration::from_secs(60))
///     .with_token_type("at+jwt")
///     .with_required_claim("jti")
///     .with_scope_claim(ScopeClaim::Scp);
/// assert_eq!(policy.issuers(), ["https://auth.example"]);
/// assert_eq!(policy.leeway(), Duration::from_secs(60));
/// ```
#[derive(Clone)]
pub struct Policy {
    issuers: Vec<String>,
    audiences: Vec<String>,
    leeway: u64,
    required: Vec<String>,
    token_type: Option<String>,
    scope_claim: ScopeClaim,
    /// The above as jsonwebtoken checks it, once per algorithm of `ALGORITHMS` (shared between clones).
    by_algorithm: Arc<[Validation]>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("issuers", &self.issuers)
            .field("audiences", &self.audiences)
            .field("leeway_seconds", &self.leeway)
            .field("required", &self.required)
            .field("token_type", &self.token_type)
            .field("scope_claim", &self.scope_claim)
            .finish()
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self::new()
    }
}

impl Policy {
    /// `exp` required, `nbf` honoured, no clock leeway, any issuer and audience, no `typ` required, scopes
    /// in `scope` (RFC 9068).
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// assert!(Policy::new().issuers().is_empty() && Policy::new().audiences().is_empty());
    /// ```
    pub fn new() -> Self {
        Policy {
            issuers: Vec::new(),
            audiences: Vec::new(),
            leeway: 0,
            required: Vec::new(),
            token_type: None,
            scope_claim: ScopeClaim::default(),
            by_algorithm: Arc::from([]),
        }
        .compiled()
    }

    /// Accepts only tokens whose `iss` is `issuer` (replacing any issuers set before).
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// assert_eq!(Policy::new().with_issuer("https://auth.example").issuers(), ["https://auth.example"]);
    /// ```
    pub fn with_issuer(self, issuer: impl Into<String>) -> Self {
        self.with_issuers([issuer.into()])
    }

    /// Accepts only tokens whose `iss` is one of `issuers` (none: any issuer, and `iss` not required).
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// let policy = Policy::new().with_issuers(["https://a.example", "https://b.example"]);
    /// assert_eq!(policy.issuers().len(), 2);
    /// ```
    pub fn with_issuers<I: Into<String>>(mut self, issuers: impl IntoIterator<Item = I>) -> Self {
        self.issuers = issuers.into_iter().map(Into::into).collect();
        self.compiled()
    }

    /// Accepts only tokens whose `aud` names `audience` (replacing any audiences set before).
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// assert_eq!(Policy::new().with_audience("https://api.example").audiences(), ["https://api.example"]);
    /// ```
    pub fn with_audience(self, audience: impl Into<String>) -> Self {
        self.with_audiences([audience.into()])
    }

    /// Accepts only tokens whose `aud` names one of `audiences` (none: any audience, and `aud` not
    /// required; only for an issuer that issues tokens for this API alone).
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// let policy = Policy::new().with_audiences(["https://api.example", "https://api.example/v2"]);
    /// assert_eq!(policy.audiences().len(), 2);
    /// ```
    pub fn with_audiences<A: Into<String>>(mut self, audiences: impl IntoIterator<Item = A>) -> Self {
        self.audiences = audiences.into_iter().map(Into::into).collect();
        self.compiled()
    }

    /// Accepts `exp` and `nbf` off by at most `leeway` (whole seconds), for clock skew between machines.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::verifying::Policy;
    /// assert_eq!(Policy::new().with_leeway(Duration::from_secs(30)).leeway(), Duration::from_secs(30));
    /// ```
    pub fn with_leeway(mut self, leeway: Duration) -> Self {
        self.leeway = leeway.as_secs();
        self.compiled()
    }

    /// Requires the claim `name` (`sub`, `nbf`, `jti`, any name) to be present.
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// assert_eq!(Policy::new().with_required_claim("jti").required_claims(), ["jti"]);
    /// ```
    pub fn with_required_claim(mut self, name: impl Into<String>) -> Self {
        let name = name.into();
        if !self.required.contains(&name) {
            self.required.push(name);
        }
        self.compiled()
    }

    /// Accepts only tokens whose header's `typ` is `token_type` (compared without case, with or without
    /// `application/`), such as RFC 9068's `at+jwt`, which tells an access token from an ID token.
    ///
    /// ```
    /// use scopes_runtime::verifying::Policy;
    /// assert_eq!(Policy::new().with_token_type("at+jwt").token_type(), Some("at+jwt"));
    /// ```
    pub fn with_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.token_type = Some(token_type.into());
        self
    }

    /// Reads the token's scopes from `claim` (the default is `scope`).
    ///
    /// ```
    /// use scopes_runtime::verifying::{Policy, ScopeClaim};
    /// assert_eq!(Policy::new().with_scope_claim(ScopeClaim::Scp).scope_claim(), &ScopeClaim::Scp);
    /// ```
    pub fn with_scope_claim(mut self, claim: ScopeClaim) -> Self {
        self.scope_claim = claim;
        self
    }

    /// The accepted issuers; empty when any is.
    pub fn issuers(&self) -> &[String] {
        &self.issuers
    }

    /// The accepted audiences; empty when any is.
    pub fn audiences(&self) -> &[String] {
        &self.audiences
    }

    /// The clock leeway for `exp` and `nbf`.
    pub fn leeway(&self) -> Duration {
        Duration::from_secs(self.leeway)
    }

    /// The claims required beyond `exp` (and `iss` and `aud`, when those are checked).
    pub fn required_claims(&self) -> &[String] {
        &self.required
    }

    /// The header `typ` required, if any.
    pub fn token_type(&self) -> Option<&str> {
        self.token_type.as_deref()
    }

    /// Where the scopes are read.
    pub fn scope_claim(&self) -> &ScopeClaim {
        &self.scope_claim
    }

    /// The leeway in seconds, as the verifiers compare it.
    pub(crate) fn leeway_seconds(&self) -> u64 {
        self.leeway
    }

    /// jsonwebtoken's form of the policy for tokens checked with `algorithm`.
    pub(crate) fn validation(&self, algorithm: Algorithm) -> &Validation {
        let position = ALGORITHMS.iter().position(|known| *known == algorithm);
        // Every `Algorithm` is in `ALGORITHMS` (a test keeps it so).
        &self.by_algorithm[position.unwrap_or(0)]
    }

    /// The header of `token`, once `crit` (RFC 7515 §4.1.11: understood by no verifier here) and the
    /// required `typ` are checked.
    ///
    /// ```
    /// use scopes_runtime::verifying::{Policy, TokenError};
    /// let token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.e30.sig";
    /// assert_eq!(Policy::new().checked_header(token).unwrap().alg, jsonwebtoken::Algorithm::HS256);
    /// assert!(matches!(Policy::new().with_token_type("at+jwt").checked_header(token), Err(TokenError::InvalidClaims(_))));
    /// ```
    pub fn checked_header(&self, token: &str) -> Result<Header, TokenError> {
        let header = jsonwebtoken::decode_header(token)?;
        if header.crit.is_some() {
            return Err(TokenError::CriticalExtension);
        }
        if let Some(required) = &self.token_type {
            let typ = header.typ.as_deref().unwrap_or_default();
            let typ = typ.get(..12).filter(|p| p.eq_ignore_ascii_case("application/")).map_or(typ, |_| &typ[12..]);
            if !typ.eq_ignore_ascii_case(required) {
                return Err(TokenError::InvalidClaims(format!("the header's `typ` is not `{required}`")));
            }
        }
        Ok(header)
    }

    /// Verifies the JWT `token` with `key`, pinned to `algorithm` (whatever its header says), under this
    /// policy, and reads its claims: what a verifier of JWTs of its own calls. The header is checked as
    /// [`checked_header`](Self::checked_header) does.
    ///
    /// ```
    /// use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
    /// use scopes_runtime::verifying::{Policy, ScopeClaim};
    ///
    /// let secret = b"0123456789abcdef0123456789abcdef";
    /// let claims = serde_json::json!({"sub": "johndoe", "scope": "me items", "exp": 4_000_000_000u64});
    /// let token = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(secret)).unwrap();
    /// let verified = Policy::new().decode(&token, &DecodingKey::from_secret(secret), Algorithm::HS256).unwrap();
    /// assert_eq!((verified.sub.as_str(), verified.scopes.len()), ("johndoe", 2));
    /// ```
    pub fn decode(&self, token: &str, key: &DecodingKey, algorithm: Algorithm) -> Result<Claims, TokenError> {
        self.checked_header(token)?;
        self.decode_checked(token, key, algorithm, &self.scope_claim)
    }

    /// [`decode`](Self::decode) once the header is checked, the scopes read from `scope_claim` (a
    /// provider's own, or the policy's).
    pub(crate) fn decode_checked(
        &self,
        token: &str,
        key: &DecodingKey,
        algorithm: Algorithm,
        scope_claim: &ScopeClaim,
    ) -> Result<Claims, TokenError> {
        let claims = jsonwebtoken::decode::<serde_json::Value>(token, key, self.validation(algorithm))?.claims;
        let claims = Claims::from_json(claims, scope_claim)?;
        self.check_required(&claims)?;
        Ok(claims)
    }

    /// Holds claims found some other way than by decoding a JWT (an opaque token looked up, an
    /// introspection answer) to this policy: `exp` and `nbf` within the leeway, `iss` and `aud`, and the
    /// required claims.
    ///
    /// ```
    /// use scopes_runtime::Claims;
    /// use scopes_runtime::verifying::{Policy, TokenError};
    ///
    /// let policy = Policy::new().with_audience("https://api.example");
    /// let mut claims = Claims::new("johndoe", ["me"], 4_000_000_000);
    /// assert!(matches!(policy.check(&claims), Err(TokenError::InvalidClaims(_))));
    /// claims.extra.insert("aud".into(), "https://api.example".into());
    /// assert!(policy.check(&claims).is_ok());
    /// assert_eq!(policy.check(&Claims::new("johndoe", ["me"], 1)), Err(TokenError::Expired));
    /// ```
    pub fn check(&self, claims: &Claims) -> Result<(), TokenError> {
        let now = crate::keys::clock::unix_now();
        if claims.exp.saturating_add(self.leeway) < now {
            return Err(TokenError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| nbf > now.saturating_add(self.leeway)) {
            return Err(TokenError::NotYetValid);
        }
        if !self.issuers.is_empty() {
            let issuer = claims.extra.get("iss").and_then(serde_json::Value::as_str);
            if !issuer.is_some_and(|issuer| self.issuers.iter().any(|trusted| trusted == issuer)) {
                return Err(TokenError::InvalidClaims("`iss` is missing or not a trusted issuer".into()));
            }
        }
        if !self.audiences.is_empty() {
            let names = |audience: &str| self.audiences.iter().any(|accepted| accepted == audience);
            let named = match claims.extra.get("aud") {
                Some(serde_json::Value::String(audience)) => names(audience),
                Some(serde_json::Value::Array(audiences)) => {
                    audiences.iter().filter_map(serde_json::Value::as_str).any(names)
                }
                _ => false,
            };
            if !named {
                return Err(TokenError::InvalidClaims("`aud` is missing or names no accepted audience".into()));
            }
        }
        self.check_required(claims)
    }

    /// Whether `other` checks what this policy checks when decoding: compiled together, and not changed
    /// since (every setting `decode_checked` reads recompiles the policy).
    pub(crate) fn compiled_as(&self, other: &Policy) -> bool {
        Arc::ptr_eq(&self.by_algorithm, &other.by_algorithm)
    }

    /// The required claims jsonwebtoken does not check itself.
    pub(crate) fn check_required(&self, claims: &Claims) -> Result<(), TokenError> {
        let missing = self.required.iter().find(|name| match name.as_str() {
            "sub" | "exp" => false,
            "nbf" => claims.nbf.is_none(),
            name => !claims.extra.contains_key(name),
        });
        match missing {
            Some(name) => Err(TokenError::InvalidClaims(format!("`{name}` is missing"))),
            None => Ok(()),
        }
    }

    /// The policy with its jsonwebtoken form rebuilt.
    fn compiled(mut self) -> Self {
        let base = {
            let mut base = Validation::new(Algorithm::HS256);
            base.leeway = self.leeway;
            base.validate_nbf = true;
            base.validate_aud = !self.audiences.is_empty();
            let mut required = vec!["exp"];
            required.extend(self.required.iter().map(String::as_str).filter(|name| SPEC_CLAIMS.contains(name)));
            if !self.issuers.is_empty() {
                base.set_issuer(&self.issuers);
                required.push("iss");
            }
            if !self.audiences.is_empty() {
                base.set_audience(&self.audiences);
                required.push("aud");
            }
            base.set_required_spec_claims(&required);
            base
        };
        self.by_algorithm =
            ALGORITHMS.iter().map(|algorithm| Validation { algorithms: vec![*algorithm], ..base.clone() }).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_has_its_validation() {
        let policy = Policy::new();
        for algorithm in ALGORITHMS {
            assert_eq!(policy.validation(algorithm).algorithms, [algorithm]);
        }
    }

    #[test]
    fn spec_claims_are_required_by_jsonwebtoken_and_others_here() {
        let policy = Policy::new().with_required_claim("sub").with_required_claim("jti").with_issuer("i");
        let required = &policy.validation(Algorithm::HS256).required_spec_claims;
        assert!(["exp", "sub", "iss"].iter().all(|name| required.contains(*name)));
        assert!(!required.contains("jti"));
        let claims = Claims::new("j", ["me"], u64::MAX / 2);
        assert!(matches!(policy.check_required(&claims), Err(TokenError::InvalidClaims(_))));
    }
}

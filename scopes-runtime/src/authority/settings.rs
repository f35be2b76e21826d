//! What an authority holds tokens to, and what the tokens it issues carry: issuer, audience, leeway, the
//! scope claim, the header's `typ`, token ids, revocations. Each setting changes the one [`Policy`].

use std::time::Duration;

use super::Authority;
use crate::verifying::{ClaimFormat, Policy, Revocations, ScopeClaim};

impl Authority {
    /// Holds tokens to the policy `change` makes of the current one (which keeps its source's defaults: a
    /// shared secret's `scopes` claim, a provider's issuers): several issuers or audiences, a required
    /// claim. What the tokens it issues carry is unchanged (see [`with_issuer`](Self::with_issuer) and
    /// [`with_audience`](Self::with_audience)).
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef")
    ///     .unwrap()
    ///     .with_policy(|policy| policy.with_audiences(["https://api.example", "https://api.example/v2"]));
    /// assert_eq!(authority.policy().audiences().len(), 2);
    /// ```
    pub fn with_policy(mut self, change: impl FnOnce(Policy) -> Policy) -> Self {
        let inner = self.inner_mut();
        inner.policy = change(std::mem::take(&mut inner.policy));
        self
    }

    /// Issues tokens with `iss` = `issuer`, and accepts only tokens that carry it. On an authority of
    /// [providers](Self::from_providers), whose policy already names each provider's issuer, it replaces
    /// that list with `issuer` alone.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let secret = b"0123456789abcdef0123456789abcdef";
    /// let ours = Authority::hs256(secret).unwrap().with_issuer("https://auth.example");
    /// let theirs = Authority::hs256(secret).unwrap().with_issuer("https://elsewhere.example");
    /// let token = theirs.issue("johndoe", &["me"]).unwrap();
    /// assert!(ours.verify(&token).is_err());
    /// ```
    pub fn with_issuer(self, issuer: impl Into<String>) -> Self {
        let issuer = issuer.into();
        let mut authority = self.with_policy(|policy| policy.with_issuer(issuer.clone()));
        authority.inner_mut().issued.issuer = Some(issuer);
        authority
    }

    /// Issues tokens with `aud` = `audience`, and accepts only tokens for it.
    pub fn with_audience(self, audience: impl Into<String>) -> Self {
        self.with_audiences([audience.into()])
    }

    /// Accepts tokens whose `aud` names any of `audiences` (one API known by several identifiers, or
    /// several APIs served together), and issues them with the first. None: as
    /// [`with_any_audience`](Self::with_any_audience).
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let secret = b"0123456789abcdef0123456789abcdef";
    /// let api = Authority::hs256(secret).unwrap().with_audiences(["https://api.example", "https://api.example/v2"]);
    /// let v2 = Authority::hs256(secret).unwrap().with_audience("https://api.example/v2");
    /// let other = Authority::hs256(secret).unwrap().with_audience("https://other.example");
    /// assert!(api.verify(&v2.issue("johndoe", &["me"]).unwrap()).is_ok());
    /// assert!(api.verify(&other.issue("johndoe", &["me"]).unwrap()).is_err());
    /// ```
    pub fn with_audiences<A: Into<String>>(self, audiences: impl IntoIterator<Item = A>) -> Self {
        let audiences: Vec<String> = audiences.into_iter().map(Into::into).collect();
        let first = audiences.first().cloned();
        let mut authority = self.with_policy(|policy| policy.with_audiences(audiences));
        authority.inner_mut().issued.audience = first;
        authority
    }

    /// Orders the authentication context classes (`acr` values) this API knows, weakest first, so that a
    /// route's `#[requires(min_acr = "...")]` takes any token whose `acr` is that class or a stronger one.
    /// A token whose `acr` is not in the list reaches no level; a route naming a class not in it refuses
    /// every token (and logs an error), rather than guess.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap()
    ///     .with_acr_levels(["urn:example:password", "urn:example:mfa", "urn:example:hardware-key"]);
    /// assert_eq!(authority.acr_levels().len(), 3);
    /// ```
    pub fn with_acr_levels<A: Into<String>>(mut self, levels: impl IntoIterator<Item = A>) -> Self {
        self.inner_mut().acr_levels = levels.into_iter().map(Into::into).collect();
        self
    }

    /// The authentication context classes, weakest first ([`with_acr_levels`](Self::with_acr_levels)).
    pub fn acr_levels(&self) -> &[String] {
        &self.inner.acr_levels
    }

    /// Accepts tokens whatever their `aud` (and issues them without one): only for a provider that issues
    /// tokens for this API alone, since any token it issues, for any service, is then good here too.
    ///
    /// ```
    /// use scopes_runtime::{Authority, KeySet};
    /// let keys = KeySet::from_jwks(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#).unwrap();
    /// let authority = Authority::from_key_set(keys, "https://api.example").with_any_audience();
    /// assert!(authority.policy().audiences().is_empty());
    /// ```
    pub fn with_any_audience(self) -> Self {
        let mut authority = self.with_policy(|policy| policy.with_audiences(Vec::<String>::new()));
        authority.inner_mut().issued.audience = None;
        authority
    }

    /// The former name of [`with_any_audience`](Self::with_any_audience).
    #[deprecated(since = "0.1.0", note = "renamed `with_any_audience`, as every other builder is `with_*`")]
    pub fn without_audience_check(self) -> Self {
        self.with_any_audience()
    }

    /// Accepts `exp` and `nbf` that are off by at most `leeway` (whole seconds), for clock skew
    /// between a separate issuer and this verifier.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_leeway(Duration::from_secs(30));
    /// # let _ = authority;
    /// ```
    pub fn with_leeway(self, leeway: Duration) -> Self {
        self.with_policy(|policy| policy.with_leeway(leeway))
    }

    /// Reads the scopes of the tokens it verifies from `claim`: the default is `scope` for key sets,
    /// providers and key rings, and the seed's `scopes` for a shared secret. A [`Provider`](crate::Provider)
    /// given its own claim keeps it.
    ///
    /// ```
    /// use scopes_runtime::{Authority, ScopeClaim};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_scope_claim(ScopeClaim::Scp);
    /// assert_eq!(authority.policy().scope_claim(), &ScopeClaim::Scp);
    /// ```
    pub fn with_scope_claim(self, claim: ScopeClaim) -> Self {
        self.with_policy(|policy| policy.with_scope_claim(claim))
    }

    /// Accepts only tokens whose header's `typ` is `token_type` (compared without case, with or without
    /// `application/`), such as RFC 9068's `at+jwt`, which tells an access token from an ID token.
    /// Tokens signed with a shared secret are not checked.
    ///
    /// ```
    /// use scopes_runtime::{Authority, KeySet};
    /// let keys = KeySet::from_jwks(r#"{"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "k1",
    ///     "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}"#).unwrap();
    /// let authority = Authority::from_key_set(keys, "https://api.example").with_token_type("at+jwt");
    /// assert_eq!(authority.policy().token_type(), Some("at+jwt"));
    /// ```
    pub fn with_token_type(self, token_type: impl Into<String>) -> Self {
        let token_type = token_type.into();
        self.with_policy(|policy| policy.with_token_type(token_type))
    }

    /// The former name of [`with_token_type`](Self::with_token_type).
    #[deprecated(since = "0.1.0", note = "renamed `with_token_type`, as every other builder is `with_*`")]
    pub fn require_token_type(self, token_type: impl Into<String>) -> Self {
        self.with_token_type(token_type)
    }

    /// Writes and reads scopes in `format`.
    ///
    /// ```
    /// use scopes_runtime::{Authority, verifying::ClaimFormat};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_claim_format(ClaimFormat::ScopeString);
    /// let token = authority.issue("johndoe", &["me", "items"]).unwrap();
    /// assert_eq!(authority.verify(&token).unwrap().scopes, ["me", "items"]);
    /// ```
    pub fn with_claim_format(mut self, format: ClaimFormat) -> Self {
        self.inner_mut().issued.format = format;
        let read = match format {
            ClaimFormat::ScopesList => ScopeClaim::Scopes,
            ClaimFormat::ScopeString => ScopeClaim::Scope,
        };
        self.with_policy(|policy| policy.with_scope_claim(read))
    }

    /// Stamps issued tokens with `iat` and a random 128-bit `jti`, as an issuer's are
    /// ([`from_key_ring`](Self::from_key_ring)): what lets one access token be revoked, and an account
    /// refuse tokens issued before it was made ([`Account::admits`](crate::Account::admits)). The seed's
    /// tokens carry neither, so an HS256 authority does not by default.
    ///
    /// ```
    /// use scopes_runtime::Authority;
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap().with_token_ids();
    /// let claims = authority.verify(&authority.issue("johndoe", &["me"]).unwrap()).unwrap();
    /// assert!(claims.extra.contains_key("jti") && claims.extra.contains_key("iat"));
    /// ```
    pub fn with_token_ids(mut self) -> Self {
        self.inner_mut().issued.stamped = true;
        self
    }

    /// Refuses tokens that `revocations` holds revoked (by `jti`) or issued from a revoked refresh-token
    /// family (by `sid`), although they verify: what makes `/revoke` and a password change end access
    /// tokens before they expire. A [`TokenEndpoint`](crate::TokenEndpoint) built on this authority records
    /// what it revokes in them.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::{Authority, verifying::Revocations, store::Revoked};
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let revocations = Revocations::load(|_| async { Ok(Revoked::default()) }, Duration::from_secs(1800), Duration::from_secs(5))
    ///     .await
    ///     .unwrap();
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap()
    ///     .with_token_ids()
    ///     .with_revocations(revocations.clone());
    /// let token = authority.issue("johndoe", &["me"]).unwrap();
    /// let jti = authority.verify(&token).unwrap().claim::<String>("jti").unwrap().unwrap();
    /// revocations.add_access_token(&jti);
    /// assert!(authority.verify(&token).is_err());
    /// # }
    /// ```
    pub fn with_revocations(mut self, revocations: Revocations) -> Self {
        self.inner_mut().revocations = Some(revocations);
        self
    }
}

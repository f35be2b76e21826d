//! The refresh-token grant (RFC 6749 §6) and revocation (RFC 7009), for a store that keeps refresh tokens.
//!
//! A refresh token is 256 random bits, opaque, stored hashed. Every use rotates it: the presented token is
//! used up and a new one returned, in one atomic step of the store, so of two uses at once (at any
//! replicas) one succeeds and the other is a reuse. A reuse, the sign of a stolen token replayed, revokes
//! the whole family (OAuth 2.0 Security BCP §4.14). A refresh may narrow the scopes, never widen them, and
//! grants no scope the user has lost since; a disabled or removed user's tokens are refused and revoked.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::binding::TokenRequestProof;
use super::form::no_store;
use super::{ClientAddress, TokenEndpoint};
use crate::answering::error::AuthError;
use crate::issuing::form::{RefreshRequestForm, RevocationRequest};
use crate::issuing::response::TokenResponse;
use crate::keys::clock::unix_now;
use crate::keys::random::{digest_hex, random_bytes, token_hash};
use crate::observing::metrics as names;
use crate::observing::{self, AuditEvent, Refresh, RefreshOutcome, Revocation};
use crate::store::RefreshOutcome as StoreOutcome;
use crate::store::{AccountStore, NewRefreshToken, PresentedRefreshToken, RefreshTokenStore};

/// Bytes of a refresh token: its family's id, then its own secret.
const FAMILY_ID_BYTES: usize = 16;
const TOKEN_BYTES: usize = 32;

/// A refresh token: the family's id followed by 16 fresh random bytes, base64url (43 characters); and how
/// the store knows it.
fn new_refresh_token(family_id: &[u8; FAMILY_ID_BYTES]) -> Result<(String, PresentedRefreshToken), AuthError> {
    let secret = random_bytes::<FAMILY_ID_BYTES>()
        .ok_or_else(|| AuthError::Internal("no randomness for a refresh token".into()))?;
    let mut bytes = [0u8; TOKEN_BYTES];
    bytes[..FAMILY_ID_BYTES].copy_from_slice(family_id);
    bytes[FAMILY_ID_BYTES..].copy_from_slice(&secret);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let known = presented(&token);
    Ok((token, known))
}

/// The family id a refresh token starts with; `None` for a token of another shape.
fn family_id(token: &str) -> Option<[u8; FAMILY_ID_BYTES]> {
    let decoded = URL_SAFE_NO_PAD.decode(token).ok().filter(|bytes| bytes.len() == TOKEN_BYTES)?;
    decoded[..FAMILY_ID_BYTES].try_into().ok()
}

/// A presented refresh token's hash and the key of the family it names (none for a token of another shape,
/// which then matches no family).
fn presented(token: &str) -> PresentedRefreshToken {
    let family = family_id(token).map(|id| digest_hex(&id)).unwrap_or_default();
    PresentedRefreshToken { hash: token_hash(token), family }
}

/// A family's key as logs show it: enough to tell families apart, not the whole key.
fn family_in_logs(family: &str) -> &str {
    family.get(..16).unwrap_or(family)
}

impl TokenEndpoint {
    /// Starts a refresh-token family for `username`'s login granting `scopes`; the token to hand out, and
    /// the family's key (the access tokens issued from the family carry it as `sid`).
    pub(super) async fn start_refresh_family<T: RefreshTokenStore>(
        &self,
        tokens: &T,
        username: &str,
        scopes: &[&str],
        bound_to: Option<&str>,
    ) -> Result<(String, String), AuthError> {
        let family_id = random_bytes::<FAMILY_ID_BYTES>()
            .ok_or_else(|| AuthError::Internal("no randomness for a family".into()))?;
        let (token, known) = new_refresh_token(&family_id)?;
        let now = unix_now();
        let family_expires_at = now.saturating_add(self.refresh.family_lifetime.as_secs());
        let new = NewRefreshToken {
            hash: known.hash,
            family: known.family.clone(),
            username: username.to_owned(),
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            expires_at: now.saturating_add(self.refresh.lifetime.as_secs()).min(family_expires_at),
            family_expires_at,
            dpop_jkt: bound_to.map(str::to_owned),
        };
        match tokens.add_refresh_token(&new, &self.refresh).await {
            Ok(()) => Ok((token, known.family)),
            // Removed while logging in: the login is refused as a wrong password would be.
            Err(crate::reloading::StoreError::UnknownUser(_)) => Err(AuthError::IncorrectCredentials),
            Err(error) => Err(error.into()),
        }
    }

    /// Records that the family `family` is revoked, so that this replica refuses its access tokens at once.
    fn family_revoked(&self, family: &str) {
        if let Some(revocations) = self.authority.revocations() {
            revocations.add_family(family);
        }
    }

    /// The refresh-token grant.
    pub(super) async fn try_refresh<S: AccountStore>(
        &self,
        client: ClientAddress,
        form: RefreshRequestForm,
        store: &S,
        seen: &mut RefreshSeen,
        proof: &TokenRequestProof,
    ) -> Result<TokenResponse, AuthError> {
        let Some(tokens) = store.refresh_tokens() else {
            return Err(AuthError::UnsupportedGrantType);
        };
        let requested = form.scopes().map(|scopes| self.declared(scopes)).transpose()?;
        let presented = presented(&form.refresh_token);
        seen.family = Some(family_in_logs(&presented.family).to_owned()).filter(|family| !family.is_empty());
        let now = unix_now();
        let client = client.0.map(|address| address.to_string()).unwrap_or_else(|| "unknown".into());
        // A replay, or two uses at once: logged by the refresh's event, at WARN.
        let replayed = |username: String, seen: &mut RefreshSeen| {
            self.family_revoked(&presented.family);
            seen.user = Some(username);
            seen.outcome = Some(RefreshOutcome::Reused);
            AuthError::InvalidRefreshToken
        };
        // Everything that can refuse is checked before the token is used up, so a refusal (or an outage)
        // costs the client nothing: the rotation is the last call to the store.
        let Some(grant) = tokens.find_refresh_token(&presented.hash, now).await? else {
            // Unknown, expired, revoked, or not the current one: the rotation tells a reuse apart and
            // revokes its family.
            return match tokens.rotate_refresh_token(&presented, "", now, &self.refresh).await? {
                StoreOutcome::Reused { username } => Err(replayed(username, seen)),
                StoreOutcome::Invalid => Err(AuthError::InvalidRefreshToken),
                StoreOutcome::Throttled | StoreOutcome::Rotated => {
                    Err(AuthError::Internal("a refresh token became current".into()))
                }
            };
        };
        seen.user = Some(grant.username.clone());
        // A family bound to a key is refreshed only with a proof by it (RFC 9449 §5): a stolen refresh
        // token is worth nothing without the key. A proof with an unbound family binds the access token.
        let bound_to = self.proof_key(proof).await?;
        if let Some(bound) = &grant.dpop_jkt
            && bound_to.as_ref() != Some(bound)
        {
            let description = "the refresh token is bound to a DPoP key: send a proof by that key";
            return Err(AuthError::DpopProofRefused { description });
        }
        if let Some(beyond) =
            requested.iter().flatten().find(|scope| !grant.scopes.iter().any(|granted| granted == *scope))
        {
            return Err(AuthError::ScopeNotGranted { scope: (*beyond).to_owned() });
        }
        let account = match store.find(&grant.username).await? {
            Some(account) if !account.disabled => account,
            _ => {
                // Revoked with the user (or removed with them); revoking again makes sure.
                tokens.revoke_refresh_family(&presented, now).await?;
                self.family_revoked(&grant.family);
                return Err(AuthError::InvalidRefreshToken);
            }
        };
        // A family carried over from before tokens named their family gets an id now (its key stays).
        let family_id = match family_id(&form.refresh_token).filter(|_| presented.family == grant.family) {
            Some(id) => id,
            None => random_bytes::<FAMILY_ID_BYTES>().ok_or_else(|| AuthError::Internal("no randomness".into()))?,
        };
        let (token, replacement) = new_refresh_token(&family_id)?;
        let scopes = match tokens.rotate_refresh_token(&presented, &replacement.hash, now, &self.refresh).await? {
            // A family's user and scopes never change: what was read before the rotation is what it rotated.
            StoreOutcome::Rotated => grant.scopes,
            StoreOutcome::Reused { username } => return Err(replayed(username, seen)),
            StoreOutcome::Throttled => {
                tracing::info!(user = %grant.username, family = %family_in_logs(&grant.family), %client, "refresh refused: the family's rotations this minute are used up");
                seen.outcome = Some(RefreshOutcome::Throttled);
                return Err(AuthError::TooManyRequests { retry_after: std::time::Duration::from_secs(60) });
            }
            StoreOutcome::Invalid => return Err(AuthError::InvalidRefreshToken),
        };
        // The same scopes as before unless fewer were asked for, and never one the user has lost since.
        let asked: Vec<&str> = match &requested {
            Some(requested) => requested.clone(),
            None => scopes.iter().map(String::as_str).collect(),
        };
        let granted: Vec<&str> = asked
            .into_iter()
            .filter(|scope| scopes.iter().any(|granted| granted == scope))
            .filter(|scope| self.registry.scope(scope).is_some_and(|scope| scope.is_held_by(&account.allowed_scopes)))
            .collect();
        let bound_to = bound_to.as_deref();
        let access_token =
            self.authority.issue_in_session(&account.username, &granted, Some(&grant.family), bound_to)?;
        Ok(self.token_response(access_token, &granted, bound_to).with_refresh_token(token))
    }

    /// Revokes the token of `request` (RFC 7009 §2): a refresh token's whole family, and with it the access
    /// tokens issued from that family; an access token this authority issued with a `jti`
    /// ([`Authority::with_token_ids`](crate::Authority::with_token_ids)), by that `jti`, until it expires.
    /// Both are refused at once by this replica and, through the store, by the others at their next reload
    /// of the authority's [`Revocations`](crate::verifying::Revocations). An unknown token is answered 200 as well,
    /// as the RFC says; a store that cannot answer is 503. Answers in the authority's style, `no-store`.
    pub async fn revoke<S: AccountStore>(&self, request: RevocationRequest, store: &S) -> Response {
        let revoked = match store.refresh_tokens() {
            Some(tokens) => self.try_revoke(&request.token, tokens).await,
            None => Ok(()),
        };
        let response = match revoked {
            Ok(()) => (StatusCode::OK, Json(serde_json::json!({}))).into_response(),
            Err(error) => {
                metrics::counter!(names::STORE_ERRORS, "store" => "refresh_tokens").increment(1);
                self.authority.refuse(&AuthError::from(error))
            }
        };
        no_store(response)
    }

    async fn try_revoke<T: RefreshTokenStore>(
        &self,
        token: &str,
        tokens: &T,
    ) -> Result<(), crate::reloading::StoreError> {
        // An access token is a JWT (three dot-separated parts); a refresh token never has a dot.
        if token.contains('.') {
            let Ok(claims) = self.authority.verify(token) else { return Ok(()) };
            if let Ok(Some(jti)) = claims.claim::<String>("jti") {
                tokens.revoke_access_token(&jti, claims.exp).await?;
                if let Some(revocations) = self.authority.revocations() {
                    revocations.add_access_token(&jti);
                }
                let user = observing::bounded(&claims.sub);
                self.authority.report(AuditEvent::Revocation(Revocation::AccessToken { user }));
            }
            return Ok(());
        }
        let presented = presented(token);
        if tokens.revoke_refresh_family(&presented, unix_now()).await? {
            self.family_revoked(&presented.family);
            let family = family_in_logs(&presented.family).into();
            self.authority.report(AuditEvent::Revocation(Revocation::RefreshFamily { family }));
        }
        Ok(())
    }
}

/// What a refresh found out on its way, for its event: whose family it was, and how it ended where the
/// refusal does not say.
#[derive(Default)]
pub(super) struct RefreshSeen {
    user: Option<String>,
    family: Option<String>,
    outcome: Option<RefreshOutcome>,
}

impl RefreshSeen {
    /// The refresh's event, refused with `refusal` or granted.
    pub(super) fn event(self, client: ClientAddress, refusal: Option<&AuthError>) -> Refresh<'static> {
        let outcome = match (self.outcome, refusal) {
            (_, None) => RefreshOutcome::Granted,
            (Some(outcome), Some(_)) => outcome,
            (None, Some(refusal)) => match refusal {
                AuthError::InvalidRefreshToken => RefreshOutcome::InvalidGrant,
                AuthError::ServiceUnavailable { .. } => RefreshOutcome::Unavailable,
                AuthError::Internal(_) => RefreshOutcome::Error,
                _ => RefreshOutcome::InvalidRequest,
            },
        };
        let user = self.user.map(|user| observing::bounded(&user).into_owned().into());
        Refresh { user, family: self.family.map(Into::into), client: client.0, outcome }
    }
}

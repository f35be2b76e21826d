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

use super::TokenEndpoint;
use super::form::no_store;
use super::random::{random_text, token_hash};
use super::signing_keys::unix_now;
use crate::{
    AccountStore, AuthError, NewRefreshToken, RefreshOutcome, RefreshRequestForm, RevocationRequest, TokenResponse,
};

/// A new opaque refresh token and its hash.
fn new_refresh_token() -> Result<(String, String), AuthError> {
    let token = random_text::<32>().ok_or_else(|| AuthError::Internal("no randomness for a refresh token".into()))?;
    let hash = token_hash(&token);
    Ok((token, hash))
}

impl TokenEndpoint {
    /// Starts a refresh-token family for `username`'s login granting `scopes`; the token to hand out.
    pub(super) async fn start_refresh_family<S: AccountStore>(
        &self,
        store: &S,
        username: &str,
        scopes: &[&str],
    ) -> Result<String, AuthError> {
        let (token, hash) = new_refresh_token()?;
        let family = random_text::<16>().ok_or_else(|| AuthError::Internal("no randomness for a family".into()))?;
        let now = unix_now();
        let family_expires_at = now.saturating_add(self.refresh.family_lifetime.as_secs());
        let new = NewRefreshToken {
            hash,
            family,
            username: username.to_owned(),
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            expires_at: now.saturating_add(self.refresh.lifetime.as_secs()).min(family_expires_at),
            family_expires_at,
        };
        store.add_refresh_token(&new).await?;
        Ok(token)
    }

    /// The refresh-token grant.
    pub(super) async fn try_refresh<S: AccountStore>(
        &self,
        form: RefreshRequestForm,
        store: &S,
    ) -> Result<TokenResponse, AuthError> {
        if !store.keeps_refresh_tokens() {
            return Err(AuthError::UnsupportedGrantType);
        }
        let requested = form.scopes().map(|scopes| self.declared(scopes)).transpose()?;
        let presented = token_hash(&form.refresh_token);
        let now = unix_now();
        // Everything that can refuse is checked before the token is used up, so a refusal (or an outage)
        // costs the client nothing: the rotation is the last call to the store.
        let Some(grant) = store.find_refresh_token(&presented, now).await? else {
            // Unknown, expired, revoked, or used: the rotation tells a reuse apart and revokes its family.
            return match store.rotate_refresh_token(&presented, "", now, self.refresh.lifetime).await? {
                RefreshOutcome::Reused => {
                    tracing::warn!("a used refresh token was presented again: its family is revoked");
                    Err(AuthError::InvalidRefreshToken)
                }
                RefreshOutcome::Invalid => Err(AuthError::InvalidRefreshToken),
                RefreshOutcome::Rotated => Err(AuthError::Internal("a refresh token became current".into())),
            };
        };
        if let Some(beyond) =
            requested.iter().flatten().find(|scope| !grant.scopes.iter().any(|granted| granted == *scope))
        {
            return Err(AuthError::ScopeNotGranted { scope: (*beyond).to_owned() });
        }
        let account = match store.find(&grant.username).await? {
            Some(account) if !account.disabled => account,
            _ => {
                // Revoked with the user (or removed with them); revoking again makes sure.
                store.revoke_refresh_family(&presented, now).await?;
                return Err(AuthError::InvalidRefreshToken);
            }
        };
        let (token, replacement) = new_refresh_token()?;
        match store.rotate_refresh_token(&presented, &replacement, now, self.refresh.lifetime).await? {
            RefreshOutcome::Rotated => {}
            RefreshOutcome::Reused => {
                tracing::warn!("a refresh token was used twice at once: its family is revoked");
                return Err(AuthError::InvalidRefreshToken);
            }
            RefreshOutcome::Invalid => return Err(AuthError::InvalidRefreshToken),
        }
        // A family's user and scopes never change: what was read before the rotation is what it rotated.
        let scopes = grant.scopes;
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
        let access_token = self.authority.issue(&account.username, &granted)?;
        Ok(TokenResponse::bearer(access_token, self.authority.token_lifetime(), &granted).with_refresh_token(token))
    }

    /// Revokes the refresh token of `request`, and its whole family (RFC 7009 §2). An unknown token, or an
    /// access token (which lives until it expires: keep their lifetime short), is answered 200 as well, as
    /// the RFC says; a store that cannot answer is 503. Answers in the authority's style, `no-store`.
    pub async fn revoke<S: AccountStore>(&self, request: RevocationRequest, store: &S) -> Response {
        let revoked = if store.keeps_refresh_tokens() {
            store.revoke_refresh_family(&token_hash(&request.token), unix_now()).await
        } else {
            Ok(false)
        };
        let response = match revoked {
            Ok(_) => (StatusCode::OK, Json(serde_json::json!({}))).into_response(),
            Err(error) => self.authority.refuse(&AuthError::from(error)),
        };
        no_store(response)
    }
}

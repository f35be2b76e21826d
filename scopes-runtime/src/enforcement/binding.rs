//! A token held to its binding (RFC 9449 §7): how the request presents its token (`Bearer`, or `DPoP` with
//! a proof) must be what the token's `cnf` says, whatever the authority's DPoP mode. A token bound to a key
//! is taken only with a proof signed by that key; a bound token sent as a bearer token is refused, so a
//! copy taken from a log or the wire is worth nothing; a binding no check here understands (`cnf` without
//! `jkt`, an mTLS binding) is refused rather than ignored.

use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::observing::{InvalidToken, Outcome};
use crate::registry::Requirement;
use crate::verifying::Claims;
use crate::verifying::bearer::{Credentials, bearer_credentials, dpop_proof};
use crate::verifying::dpop::{DpopMode, ProofError, REPLAYS_RETRY_AFTER, RequestTarget};

/// The request's access token, and its DPoP proof when it came under the `DPoP` scheme.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Presented<'h> {
    pub(crate) token: &'h str,
    proof: Option<&'h str>,
}

/// What a token's `cnf` claim binds it to.
enum Binding<'c> {
    /// No `cnf`: a bearer token.
    Unbound,
    /// `cnf.jkt`: the thumbprint of the key its proofs must be signed with.
    Key(&'c str),
    /// A `cnf` this API cannot check.
    Unverifiable,
}

fn binding_of(claims: &Claims) -> Binding<'_> {
    match claims.extra.get("cnf") {
        None => Binding::Unbound,
        Some(cnf) => match cnf.get("jkt").and_then(serde_json::Value::as_str) {
            Some(thumbprint) => Binding::Key(thumbprint),
            None => Binding::Unverifiable,
        },
    }
}

/// The token the request presents: a refusal challenged with `requirement` when it has none, a malformed
/// one, a bearer token where DPoP is required, or the `DPoP` scheme without a single proof.
pub(crate) fn presented<'h>(
    headers: &'h HeaderMap,
    authority: &Authority,
    requirement: &Requirement<'_>,
) -> Result<Presented<'h>, AuthError> {
    let mode = authority.dpop_mode(requirement.assurance().dpop);
    match bearer_credentials(headers, authority.request_parsing().is_strict()) {
        Credentials::Missing => Err(AuthError::MissingCredentials),
        Credentials::Malformed(description) => {
            let malformed = AuthError::MalformedCredentials { description, challenge: Default::default() };
            Err(malformed.challenged_by(requirement))
        }
        Credentials::Bearer(_) if mode == DpopMode::Required => {
            Err(binding_refused("a bearer token where DPoP-bound tokens are required", requirement))
        }
        Credentials::Bearer(token) => Ok(Presented { token, proof: None }),
        // Not a scheme this API takes: as if no credentials were sent.
        Credentials::Dpop(_) if mode == DpopMode::Off => Err(AuthError::MissingCredentials),
        Credentials::Dpop(token) => match dpop_proof(headers) {
            Ok(Some(proof)) => Ok(Presented { token, proof: Some(proof) }),
            Ok(None) => Err(proof_refused(ProofError::Invalid("the request has no DPoP proof"), None, requirement)),
            Err(why) => Err(proof_refused(ProofError::Invalid(why), None, requirement)),
        },
    }
}

/// Holds the verified `claims` of the `presented` token to their binding, and the request in `parts` to
/// the proof.
pub(crate) async fn check_binding(
    authority: &Authority,
    claims: &Claims,
    presented: Presented<'_>,
    parts: &Parts,
    requirement: &Requirement<'_>,
) -> Result<(), AuthError> {
    match (presented.proof, binding_of(claims)) {
        (None, Binding::Unbound) => Ok(()),
        (_, Binding::Unverifiable) => {
            Err(binding_refused("the token is bound some way this API cannot check", requirement))
        }
        (None, Binding::Key(_)) => Err(binding_refused("a DPoP-bound token presented as a bearer token", requirement)),
        (Some(_), Binding::Unbound) => {
            Err(binding_refused("a bearer token presented under the DPoP scheme", requirement))
        }
        (Some(proof), Binding::Key(thumbprint)) => {
            // `presented` takes the DPoP scheme only where a setting says how.
            let Some(dpop) = authority.dpop() else {
                // A route's `dpop` without the authority's setting: no public URL to hold `htu` to.
                tracing::error!(
                    "a route takes DPoP-bound tokens, but its authority has no DPoP setting (`Authority::with_dpop`) \
                     to check their proofs with: every such request is refused"
                );
                return Err(binding_refused("DPoP-bound tokens are not taken here", requirement));
            };
            let target = RequestTarget::of(parts);
            let checked = dpop.check_proof(proof, &target, Some(presented.token), Some(thumbprint)).await;
            let nonce = || dpop.nonces().map(|nonces| nonces.current());
            checked.map(drop).map_err(|refused| proof_refused(refused, nonce(), requirement))
        }
    }
}

fn binding_refused(why: &'static str, requirement: &Requirement<'_>) -> AuthError {
    if let Some(findings) = requirement.findings() {
        findings.record_outcome(Outcome::InvalidToken(InvalidToken::Binding));
    }
    tracing::debug!(reason = why, "token refused for its binding");
    AuthError::invalid_token().challenged_by(requirement)
}

fn proof_refused(refused: ProofError, nonce: Option<String>, requirement: &Requirement<'_>) -> AuthError {
    let (outcome, error) = match refused {
        ProofError::UseNonce => {
            let error = AuthError::UseDpopNonce { nonce: nonce.unwrap_or_default(), challenge: Default::default() };
            (Outcome::InvalidProof, error.challenged_by(requirement))
        }
        ProofError::Unavailable(_) => {
            (Outcome::Unavailable, AuthError::ServiceUnavailable { retry_after: REPLAYS_RETRY_AFTER })
        }
        refused => {
            let description = refused.description();
            let error = AuthError::InvalidDpopProof { description, challenge: Default::default() };
            (Outcome::InvalidProof, error.challenged_by(requirement))
        }
    };
    if let Some(findings) = requirement.findings() {
        findings.record_outcome(outcome);
    }
    error
}

//! Binding issued tokens to the client's key (RFC 9449 §5): a token request carrying a DPoP proof gets an
//! access token whose `cnf.jkt` names the proof's key (`token_type: DPoP`), and a refresh token bound to the
//! same key, which is then refreshed only with a proof by it.

use axum::extract::FromRequestParts;
use axum::http::Method;
use axum::http::request::Parts;

use super::endpoint::TokenEndpoint;
use crate::answering::error::AuthError;
use crate::verifying::bearer::dpop_proof;
use crate::verifying::dpop::{DpopMode, ProofError, REPLAYS_RETRY_AFTER, RequestTarget};

/// The DPoP proof a token request carries (the `DPoP` header), and the request it came with: an extractor for
/// the token endpoint's handler, handed to [`TokenEndpoint::grant_with_proof`].
///
/// ```
/// use axum::extract::State;
/// use axum::response::Response;
/// use scopes_runtime::issuing::{ClientAddress, TokenEndpoint, TokenRequest, TokenRequestProof};
/// # use scopes_runtime::store::MemoryStore;
/// # #[derive(Clone)] struct AppState { tokens: TokenEndpoint, users: MemoryStore }
///
/// async fn token(State(state): State<AppState>, client: ClientAddress, proof: TokenRequestProof, form: TokenRequest) -> Response {
///     state.tokens.grant_with_proof(client, proof, form, &state.users).await
/// }
/// ```
#[derive(Clone)]
pub struct TokenRequestProof {
    /// The header's proof, none, or why it cannot be read (several headers).
    proof: Result<Option<String>, &'static str>,
    method: Method,
    path: String,
    host: Option<String>,
}

impl std::fmt::Debug for TokenRequestProof {
    /// Whether a proof came, and the request; never the proof.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequestProof")
            .field("proof", &self.proof.as_ref().map(|proof| proof.as_ref().map(|_| "<redacted>")))
            .field("method", &self.method)
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl TokenRequestProof {
    /// A request without a proof: its tokens are bearer tokens.
    pub fn none() -> Self {
        TokenRequestProof { proof: Ok(None), method: Method::POST, path: String::new(), host: None }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TokenRequestProof {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let target = RequestTarget::of(parts);
        Ok(TokenRequestProof {
            proof: dpop_proof(&parts.headers).map(|proof| proof.map(str::to_owned)),
            method: target.method.clone(),
            path: target.path.to_owned(),
            host: target.host.map(str::to_owned),
        })
    }
}

impl TokenEndpoint {
    /// The thumbprint of the key the tokens of this request are bound to: the proof's, once checked
    /// (`htm` POST, `htu` the token endpoint's public URL, fresh, never used before); `None` for a request
    /// without a proof, or where the authority takes no DPoP (a proof is then ignored, as RFC 9449 §5 lets
    /// a server that does not bind). Where DPoP is required, a request without a proof is refused: its
    /// tokens would be good nowhere here.
    pub(super) async fn proof_key(&self, proof: &TokenRequestProof) -> Result<Option<String>, AuthError> {
        let Some(dpop) = self.authority.dpop().filter(|dpop| dpop.mode() != DpopMode::Off) else {
            return Ok(None);
        };
        let refused = |description| Err(AuthError::DpopProofRefused { description });
        let header = match &proof.proof {
            Ok(Some(header)) => header,
            Ok(None) if dpop.mode() == DpopMode::Required => return refused("a DPoP proof is required"),
            Ok(None) => return Ok(None),
            Err(why) => return refused(why),
        };
        let target = RequestTarget { method: &proof.method, path: &proof.path, host: proof.host.as_deref() };
        match dpop.check_proof(header, &target, None, None).await {
            Ok(thumbprint) => Ok(Some(thumbprint)),
            Err(ProofError::UseNonce) => {
                let nonce = dpop.nonces().map(|nonces| nonces.current()).unwrap_or_default();
                Err(AuthError::DpopNonceRequired { nonce })
            }
            Err(ProofError::Unavailable(_)) => Err(AuthError::ServiceUnavailable { retry_after: REPLAYS_RETRY_AFTER }),
            Err(refusal) => refused(refusal.description()),
        }
    }
}

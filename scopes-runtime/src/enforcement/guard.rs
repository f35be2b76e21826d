//! How a request becomes an authorized principal: the app's [`Principal`] loader at the bottom, the
//! app's [`Guard`]s layered on top, and the scope [`Requirement`] that grows as it passes down through them.
//!
//! The order of checks is FastAPI's: bearer header, token verification, principal lookup, then the scopes
//! of the whole chain at once, then each guard's own check from the innermost out. A guard therefore never
//! sees a principal whose token lacks a scope any layer above it requires. Between the verification and the
//! principal, the token is held to its binding (a DPoP proof, `binding`) and to what the route asks of the
//! user's authentication (`step_up`), so no principal is loaded for a stolen or stale token.

use std::future::Future;

use axum::extract::FromRef;
use axum::http::request::Parts;

use super::binding;
use super::decision;
use super::rule::{Rule, RuleError, RuleMode};
use super::sealing::{Assured, Disjunction, SealedAuthorize};
use super::step_up;
use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::observing::{Outcome, route};
use crate::registry::requirement::{Findings, RuleBypass};
use crate::registry::{Access, Alternatives, Requirement, RuleAccess};
use crate::verifying::{Claims, TokenError};

/// The app's user type, loaded from a verified token (FastAPI's `get_current_user`).
///
/// ```
/// use scopes_runtime::{AuthError, Claims, Principal};
///
/// #[derive(Clone)]
/// struct AppState;
/// struct User { name: String }
///
/// impl Principal<AppState> for User {
///     async fn from_claims(claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
///         match claims.sub.as_str() {
///             "johndoe" => Ok(User { name: claims.sub.clone() }),
///             _ => Err(AuthError::invalid_token()),
///         }
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a principal for state `{S}`",
    label = "not loadable from a token",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`"
)]
pub trait Principal<S>: Sized + Send {
    /// Loads the principal the token's claims name. Return [`AuthError::invalid_token`] when the subject
    /// is unknown; the framework adds the `WWW-Authenticate` challenge.
    fn from_claims(claims: &Claims, state: &S) -> impl Future<Output = Result<Self, AuthError>> + Send;

    /// The scopes this principal may still exercise, when the app loads them with it (a user's allowed
    /// scopes, from the store): a token's scope then counts only where these hold it too (each through the
    /// registry's hierarchy), so a scope taken from a user stops working at once rather than when their
    /// tokens expire; a requirement it no longer meets is refused as any missing scope is (403
    /// `insufficient_scope`, or the seed's 401 "Not enough permissions"). `None`, the default: the
    /// token's scopes count as they are.
    ///
    /// ```
    /// use scopes_runtime::{AuthError, Claims, Principal};
    ///
    /// #[derive(Clone)]
    /// struct AppState;
    /// struct User { allowed: Vec<String> }
    ///
    /// impl Principal<AppState> for User {
    ///     async fn from_claims(_claims: &Claims, _state: &AppState) -> Result<Self, AuthError> {
    ///         Ok(User { allowed: vec!["me".into()] }) // loaded with the user
    ///     }
    ///     fn allowed_scopes(&self) -> Option<&[String]> {
    ///         Some(&self.allowed)
    ///     }
    /// }
    /// ```
    fn allowed_scopes(&self) -> Option<&[String]> {
        None
    }
}

/// A check layered on a principal or on another guard, with scopes of its own (FastAPI's
/// `Security(get_current_active_user, scopes=["me"])`).
///
/// Write the impl under `#[requires(scopes = [...])]`, which declares the guard's own scopes and makes
/// it usable as a handler's principal; every handler taking it requires those scopes too.
///
/// ```
/// use axum::extract::FromRef;
/// use scopes_runtime::{AuthError, Authority, Claims, Guard, Principal, requires};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User { disabled: bool }
/// # impl Principal<AppState> for User {
/// #     async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> { Ok(User { disabled: false }) }
/// # }
///
/// /// A user whose account is enabled; requires `me`.
/// struct ActiveUser(User);
///
/// #[requires(scopes = ["me"])]
/// impl Guard<AppState> for ActiveUser {
///     type Inner = User;
///     async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
///         if user.disabled { Err(AuthError::InactiveUser) } else { Ok(ActiveUser(user)) }
///     }
/// }
/// # fn main() {}
/// ```
pub trait Guard<S>: Sized + Send {
    /// The layer this guard builds on: a [`Principal`] or another guard.
    type Inner: Authorize<S>;

    /// Accepts or refuses the inner layer's result. Runs after every scope of the chain was checked.
    fn check(inner: Self::Inner, state: &S) -> impl Future<Output = Result<Self, AuthError>> + Send;
}

/// Something a handler can receive as its authorized principal: every [`Principal`], and every
/// [`Guard`] declared under `#[requires]`. Generated code calls it; apps rarely do.
///
/// Sealed: it is implemented only through those two, so whatever a handler receives was loaded from a
/// verified token and checked against every scope of its chain.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `#[requires]` handler's principal with state `{S}`",
    label = "neither a `Principal<{S}>` nor a guard declared with `#[requires]`",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`"
)]
pub trait Authorize<S>: SealedAuthorize<S> + Sized + Send {
    /// Authorizes the request against `requirement` (the requirements of every layer above this one) with
    /// the state's `authority`, and produces the principal.
    fn authorize(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
        requirement: Requirement<'_>,
    ) -> impl Future<Output = Result<Self, AuthError>> + Send;

    /// Appends this layer's own requirement and those of the layers below it, outermost first: what a
    /// route table and the OpenAPI document report. A principal adds none; a guard adds its own.
    fn requirement_layers(layers: &mut Vec<Alternatives>) {
        let _ = layers;
    }
}

// The authority is handed down rather than taken from the state here, so that whether a type is a
// principal does not depend on the state providing one: a state without an `Authority` is one error, at the
// state, not one at every principal (`RequiresHandler`).
impl<S, P> Authorize<S> for P
where
    P: Principal<S>,
    S: Send + Sync,
{
    async fn authorize(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
        requirement: Requirement<'_>,
    ) -> Result<Self, AuthError> {
        let presented = binding::presented(&parts.headers, &authority, &requirement)?;
        // Only a verification that must wait is held across the await: a pointer, not the claims.
        let claims = match authority.start_verifying(presented.token) {
            Ok(verified) => verified,
            Err(waiting) => waiting.await,
        };
        let claims = claims.map_err(|reason| refused(reason, &requirement))?;
        binding::check_binding(&authority, &claims, presented, parts, &requirement).await?;
        step_up::check(&claims, requirement.assurance(), &authority, &requirement)?;
        let principal = P::from_claims(&claims, state).await;
        if let Some(findings) = requirement.findings() {
            // Shared, not copied: the subject and issuer are read from them only for an event.
            findings.record_subject(claims.clone());
        }
        let principal = principal.map_err(|e| e.challenged_by(&requirement))?;
        let met = match principal.allowed_scopes() {
            Some(allowed) => requirement.is_met_within(&claims.scopes, allowed),
            None => requirement.is_met_by(&claims.scopes),
        };
        if !met {
            return Err(AuthError::InsufficientScope { challenge: Default::default() }.challenged_by(&requirement));
        }
        requirement.record_bypass(&claims.scopes, principal.allowed_scopes());
        // For a refusal the handler may still return: it is told with this subject.
        route::remember_granted(&claims);
        Ok(principal)
    }
}

/// The answer to a token that failed verification for `reason`: 401 with a challenge, or 503 when the
/// provider's keys are not in hand yet.
fn refused(reason: TokenError, requirement: &Requirement<'_>) -> AuthError {
    if let Some(findings) = requirement.findings() {
        findings.record_outcome(reason.outcome());
    }
    match reason {
        // Logged by the decision, at WARN.
        TokenError::KeysUnavailable { retry_after } | TokenError::ProviderUnavailable { retry_after } => {
            AuthError::ServiceUnavailable { retry_after }
        }
        reason => {
            tracing::debug!(%reason, "bearer token refused");
            AuthError::invalid_token().challenged_by(requirement)
        }
    }
}

/// What the type `#[requires]` declares for each handler says: the principal the handler receives, the
/// requirement (as a `Disjunction`), and that the state provides the [`Authority`] that verifies tokens.
/// Generated code implements it; it is not API.
///
/// The bounds sit on the associated types, not on the impls: when the registry declares the app's state,
/// the generated impl names it, so a parameter type that is no principal, or a state without an
/// `Authority`, is one error on that impl's type (the user's token), and the handler is still an axum
/// handler, with no second error from the router that routes it. Without a declared state the impl is
/// generic over the state, bounded as these associated types are.
pub trait RequiresHandler<S>: Disjunction + Assured {
    /// The handler's first parameter, as written.
    type Principal: Authorize<S>;
    /// Where the state's [`Authority`] comes from.
    type Authority: AuthorityIn<S>;

    // The methods are provided, never overridden: written against the associated types, whose bounds
    // hold here whatever the impl's own header says.

    /// Authorizes the request for the handler, and records the decision.
    fn authorize(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
    ) -> impl Future<Output = Result<Self::Principal, AuthError>> + Send
    where
        S: Sync,
    {
        // Only the findings are held beside the chain's future (the handler's future is boxed on every
        // request): the requirement is built in the call, and the authority taken again afterwards.
        async move {
            let findings = Findings::default();
            let authorized = Self::Principal::authorize(
                parts,
                state,
                authority,
                Requirement::finding(Self::ALTERNATIVES, &findings).assured(&Self::ASSURANCE),
            )
            .await;
            let authority = Self::authority(state);
            decision::record(parts, &authority, Self::requirement_layers, &findings, authorized.as_ref().err(), None);
            authorized
        }
    }

    /// The state's authority.
    fn authority(state: &S) -> Authority {
        Self::Authority::authority_in(state)
    }

    /// The route's access, with every guard layer's requirement.
    fn access() -> Access {
        Access::Requires(Self::requirement_layers())
    }

    /// The requirement of every layer, the handler's own first.
    fn requirement_layers() -> Vec<Alternatives> {
        let mut layers = vec![Self::ALTERNATIVES];
        Self::Principal::requirement_layers(&mut layers);
        layers
    }
}

/// What `#[requires]` declares for a handler whose requirement names a resource rule: the rule, what the
/// handler takes from it, and which of its alternatives grant without it. Generated code implements it;
/// it is not API.
pub trait RuledHandler<S>: RequiresHandler<S> {
    /// The rule `rule(...)` names.
    type Rule: Rule<S, Principal = Self::Principal>;
    /// One resource or a list, of the type the handler's parameter names.
    type Mode: RuleMode<S, Self::Rule>;
    /// The outermost alternatives without the rule (`admin`).
    const UNRULED: Alternatives;
    /// For each of [`ALTERNATIVES`](Disjunction::ALTERNATIVES), whether the rule is part of it.
    const RULED: &'static [bool];

    /// Authorizes the request (token, principal, every scope), then loads the resource and asks the rule,
    /// unless a scope alternative without it was met; the resource is left for the handler's parameter.
    fn authorize_ruled(
        parts: &mut Parts,
        state: &S,
        authority: Authority,
    ) -> impl Future<Output = Result<Self::Principal, AuthError>> + Send
    where
        S: Sync,
    {
        async move {
            let (findings, bypass) = (Findings::default(), RuleBypass::new(Self::UNRULED));
            let requirement = Requirement::ruled(Self::ALTERNATIVES, &findings, &bypass).assured(&Self::ASSURANCE);
            let authorized = match Self::Principal::authorize(parts, state, authority, requirement).await {
                Ok(principal) => match Self::Mode::resolve(parts, state, &principal, bypass.was_met()).await {
                    Ok(()) => Ok(principal),
                    Err(RuleError::Refused(refusal)) => {
                        findings.record_outcome(Outcome::RuleRefused);
                        Err(refusal)
                    }
                    Err(RuleError::Failed(failure)) => Err(failure),
                },
                Err(refusal) => Err(refusal),
            };
            let (authority, rule) = (Self::authority(state), Some(Self::Rule::NAME));
            decision::record(parts, &authority, Self::requirement_layers, &findings, authorized.as_ref().err(), rule);
            authorized
        }
    }

    /// The route's access, with the rule.
    fn ruled_access() -> Access {
        let rule = RuleAccess::__new(
            Self::Rule::NAME,
            Self::Rule::DESCRIPTION,
            Self::Rule::REFUSAL,
            Self::Rule::NOT_FOUND,
            if Self::Mode::READS_PATH { Self::Rule::PATH_PARAMS } else { &[] },
            Self::RULED,
        );
        Access::Ruled(Self::requirement_layers(), rule)
    }
}

/// The state's [`Authority`], through `FromRef`. Implemented by `Authority` (so that its failure is
/// reported with this message, about the state, rather than as a bare `FromRef` bound).
#[diagnostic::on_unimplemented(
    message = "the state `{S}` provides no `Authority`, which `#[requires]` handlers verify tokens with",
    label = "no `Authority` in `{S}`",
    note = "add a field `authority: scopes_runtime::Authority` to `{S}` and `#[derive(Clone, FromRef)]` on it, or \
            implement `FromRef<{S}>` for `Authority`"
)]
pub trait AuthorityIn<S> {
    /// The authority `state` provides.
    fn authority_in(state: &S) -> Authority;
}

impl<S> AuthorityIn<S> for Authority
where
    Authority: FromRef<S>,
{
    fn authority_in(state: &S) -> Authority {
        Authority::from_ref(state)
    }
}

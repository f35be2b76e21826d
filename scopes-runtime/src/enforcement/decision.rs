//! Each guard decision recorded once, where the chain has answered: counted in
//! `scopes_authz_decisions_total`, and, when the level in force logs it or the authority has a hook, told as
//! a `scopes::authz` event and an [`AuditEvent::Decision`].

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, MatchedPath};
use axum::http::request::Parts;

use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::observing::{self, AuditEvent, Decision, InvalidToken, Outcome};
use crate::registry::requirement::Findings;
use crate::registry::{Alternatives, alternatives_of};

/// The header a request id travels in (set by the app's `tower-http` `SetRequestIdLayer`, or the client's).
const REQUEST_ID: &str = "x-request-id";

/// Records the decision about the request `parts` describes: granted when `refusal` is `None`. `findings` is
/// what the chain found out; `layers`, every layer's requirement (built only for an event); `rule`, the
/// resource rule the route names.
pub(crate) fn record(
    parts: &Parts,
    authority: &Authority,
    layers: fn() -> Vec<Alternatives>,
    findings: &Findings,
    refusal: Option<&AuthError>,
    rule: Option<&'static str>,
) {
    let outcome = refusal.map_or(Outcome::Granted, |refusal| findings.outcome().unwrap_or_else(|| outcome_of(refusal)));
    let route = parts.extensions.get::<MatchedPath>().map(MatchedPath::as_str);
    let method = parts.method.as_str();
    observing::count_decision(route, method, outcome);
    let hook = authority.audit_hook();
    if !observing::decision_wanted(outcome, hook) {
        return;
    }
    let subject = findings.subject();
    let alternatives = alternatives_of(&layers());
    let requirement = alternatives.iter().map(|scopes| scopes.join(" ")).collect::<Vec<_>>().join(" | ");
    let decision = Decision {
        route,
        method,
        outcome,
        subject: subject.map(|subject| observing::bounded(&subject.sub)),
        issuer: subject.and_then(|subject| subject.iss.as_deref()).map(observing::bounded),
        requirement,
        rule,
        client: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()),
        request_id: parts.headers.get(REQUEST_ID).and_then(|id| id.to_str().ok()).map(observing::bounded),
    };
    observing::emit(&AuditEvent::Decision(decision), hook);
}

/// The outcome a refusal stands for, when the chain recorded none more precise.
fn outcome_of(refusal: &AuthError) -> Outcome {
    match refusal {
        AuthError::MissingCredentials => Outcome::MissingToken,
        AuthError::MalformedCredentials { .. } => Outcome::Malformed,
        // No token failure was recorded: the token verified, and the app's principal refused it.
        AuthError::InvalidToken { .. } => Outcome::InvalidToken(InvalidToken::UnknownPrincipal),
        AuthError::InsufficientScope { .. } => Outcome::InsufficientScope,
        AuthError::InactiveUser => Outcome::Inactive,
        AuthError::ServiceUnavailable { .. } => Outcome::Unavailable,
        AuthError::NotFound { .. } => Outcome::NotFound,
        AuthError::RuleRefused { .. } => Outcome::RuleRefused,
        AuthError::Internal(_) => Outcome::Error,
        _ => Outcome::Refused,
    }
}

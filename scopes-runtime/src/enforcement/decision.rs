//! Each guard decision recorded once, where the chain has answered: counted in
//! `scopes_authz_decisions_total`, and, when the level in force logs it or the authority has a hook, told as
//! a `scopes::authz` event and an [`AuditEvent::Decision`].

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::ConnectInfo;
use axum::http::Method;
use axum::http::request::Parts;

use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::observing::route::RouteSlot;
use crate::observing::{self, AuditEvent, Decision, InvalidToken, Outcome, Subjected, route};
use crate::registry::requirement::Findings;
use crate::registry::{Access, Alternatives, alternatives_of};

/// The header a request id travels in (set by the app's `tower-http` `SetRequestIdLayer`, or the client's).
const REQUEST_ID: &str = "x-request-id";

/// The route axum matched, outside a `SecureRouter` (with the `matched-path` feature).
#[cfg(feature = "matched-path")]
fn matched_path(parts: &Parts) -> Option<&str> {
    parts.extensions.get::<axum::extract::MatchedPath>().map(axum::extract::MatchedPath::as_str)
}

#[cfg(not(feature = "matched-path"))]
fn matched_path(_: &Parts) -> Option<&str> {
    None
}

/// Records the decision about the request `parts` describes: granted when `refusal` is `None`. `findings` is
/// what the chain found out; `layers`, every layer's requirement (built only for an event); `rule`, the
/// resource rule the route names. The route is the one a `SecureRouter` labelled, or else the one axum
/// matched.
pub(crate) fn record(
    parts: &Parts,
    authority: &Authority,
    layers: fn() -> Vec<Alternatives>,
    findings: &Findings,
    refusal: Option<&AuthError>,
    rule: Option<&'static str>,
) {
    if refusal.is_some() {
        // The chain refused after the principal's check granted: the handler will not run.
        route::forget_granted();
    }
    // A grant is known without asking the findings: the hot path takes no lock unless its event is wanted.
    let outcome = refusal.map_or(Outcome::Granted, |refusal| findings.outcome().unwrap_or_else(|| outcome_of(refusal)));
    let method = parts.method.as_str();
    let labelled = route::current();
    let route = match labelled.as_deref().and_then(|slot| slot.get()) {
        Some(keys) => {
            keys.count(method, outcome);
            Some(keys.route())
        }
        None => {
            let route = matched_path(parts);
            observing::count_decision(route, method, outcome);
            route
        }
    };
    let hook = authority.audit_hook();
    if !observing::decision_wanted(outcome, hook) {
        return;
    }
    let subject = findings.take_subject();
    let requirement = requirement_text(&alternatives_of(&layers()));
    let decision = Decision {
        route,
        method,
        outcome,
        subject: subject.as_ref().map(|subject| observing::bounded(subject.subject())),
        issuer: subject.as_ref().and_then(|subject| subject.issuer()).map(observing::bounded),
        requirement,
        rule,
        client: parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip()),
        request_id: parts.headers.get(REQUEST_ID).and_then(|id| id.to_str().ok()).map(observing::bounded),
        by_handler: false,
    };
    observing::emit(&AuditEvent::Decision(decision), hook);
}

/// Records the refusal a guarded handler returned (an [`AuthError`]) after its guard granted the request to
/// `subject`: told as a decision `by_handler`, with the subject and the route, so that an app's own rule
/// written in the handler is audited as the framework's are. Counted in `scopes_authz_decisions_total`
/// under its outcome, beside the guard's grant.
pub(crate) fn record_handler_refusal(
    authority: &Authority,
    method: &Method,
    route: &RouteSlot,
    access: fn() -> Access,
    subject: Arc<dyn Subjected>,
    refusal: &AuthError,
) {
    let outcome = outcome_of(refusal);
    let method = method.as_str();
    let route = route.get().map(|keys| {
        keys.count(method, outcome);
        keys.route()
    });
    let hook = authority.audit_hook();
    if !observing::decision_wanted(outcome, hook) {
        return;
    }
    let requirement = requirement_text(&access().alternatives().unwrap_or_default());
    let decision = Decision {
        route,
        method,
        outcome,
        subject: Some(observing::bounded(subject.subject())),
        issuer: subject.issuer().map(observing::bounded),
        requirement,
        rule: None,
        client: None,
        request_id: None,
        by_handler: true,
    };
    observing::emit(&AuditEvent::Decision(decision), hook);
}

/// A decision's `requirement`: the scope sets any one of which is enough, `|`-separated (`items me | admin me`).
fn requirement_text(alternatives: &[Vec<&str>]) -> String {
    alternatives.iter().map(|scopes| scopes.join(" ")).collect::<Vec<_>>().join(" | ")
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

//! The typed events ([`AuditEvent`]): what the `scopes::authz` tracing events say, and what an
//! [`AuditHook`] receives; and [`emit`], which logs, counts and hands each one to the hook.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use super::metrics as names;
use super::outcome::Outcome;

/// The tracing target of every event: decisions, logins, refreshes, revocations.
pub const TARGET: &str = "scopes::authz";

/// The most bytes of a subject, issuer, username or request id an event carries; a longer one is cut (at a
/// character boundary) and ends in `…`.
pub const MAX_FIELD_BYTES: usize = 256;

/// One thing the framework decided, as an [`AuditHook`] receives it and the `scopes::authz` event logs it.
/// Never a token, a password or a secret; every string bounded by [`MAX_FIELD_BYTES`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum AuditEvent<'a> {
    /// A guard let a request through or refused it.
    Decision(Decision<'a>),
    /// A login at the token endpoint (the password grant).
    Login(Login<'a>),
    /// A refresh at the token endpoint (the refresh-token grant).
    Refresh(Refresh<'a>),
    /// A token revoked at the revocation endpoint.
    Revocation(Revocation<'a>),
}

/// A guard's decision about one request.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Decision<'a> {
    /// The matched route's path template (`/items/{item_id}`), never the raw path; `None` outside a route.
    pub route: Option<&'a str>,
    /// The request's method.
    pub method: &'a str,
    /// Granted, or why not.
    pub outcome: Outcome,
    /// The token's subject, once the token verified.
    pub subject: Option<Cow<'a, str>>,
    /// The token's issuer (`iss`), once the token verified and when it names one.
    pub issuer: Option<Cow<'a, str>>,
    /// The scope sets any one of which meets the route's requirement, `|`-separated (`items me | admin me`);
    /// empty when it requires a valid token only.
    pub requirement: String,
    /// The resource rule the route names, if any.
    pub rule: Option<&'static str>,
    /// The client's address, when the server records it (`ConnectInfo`).
    pub client: Option<IpAddr>,
    /// The request's `x-request-id`, when it has one.
    pub request_id: Option<Cow<'a, str>>,
    /// Whether the handler refused the request itself (returned an [`AuthError`](crate::AuthError)) after
    /// its guard granted it: the subject is the one the guard granted. `false` for the guard's decisions.
    pub by_handler: bool,
}

/// A login's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum LoginOutcome {
    /// A token was issued.
    Granted,
    /// Wrong username or password (RFC 6749 `invalid_grant`).
    InvalidGrant,
    /// Refused unchecked: too many failed logins for the username or the address.
    Throttled,
    /// Refused unchecked: too many logins are waiting for a password check.
    QueueFull,
    /// Refused unchecked: the account store or Redis cannot be reached.
    Unavailable,
    /// The request itself was wrong: its form, an undeclared scope, a grant type not served.
    InvalidRequest,
    /// The check failed.
    Error,
}

/// A login at the token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Login<'a> {
    /// The username as given (cut to [`MAX_FIELD_BYTES`]).
    pub username: Cow<'a, str>,
    /// The client's address, when the server records it.
    pub client: Option<IpAddr>,
    /// What became of it.
    pub outcome: LoginOutcome,
}

/// A refresh's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefreshOutcome {
    /// A new access token (and refresh token) was issued.
    Granted,
    /// Unknown, expired or revoked refresh token, or a disabled user (`invalid_grant`).
    InvalidGrant,
    /// A refresh token already used was presented again: its whole family is revoked.
    Reused,
    /// The family's rotations are used up for now.
    Throttled,
    /// The store cannot be reached.
    Unavailable,
    /// The request itself was wrong (a scope beyond the grant, a malformed form).
    InvalidRequest,
    /// The refresh failed.
    Error,
}

/// A refresh at the token endpoint.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Refresh<'a> {
    /// The user the refresh token was issued to, once it is known.
    pub user: Option<Cow<'a, str>>,
    /// A digest naming the refresh-token family (never the token), once it is known.
    pub family: Option<Cow<'a, str>>,
    /// The client's address, when the server records it.
    pub client: Option<IpAddr>,
    /// What became of it.
    pub outcome: RefreshOutcome,
}

/// A revocation.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum Revocation<'a> {
    /// An access token, by its `jti`, of `user`.
    AccessToken {
        /// Whose token it was.
        user: Cow<'a, str>,
    },
    /// A refresh-token family, named by a digest.
    RefreshFamily {
        /// The digest naming the family.
        family: Cow<'a, str>,
    },
}

/// What an app hands [`Authority::with_audit_hook`](crate::Authority::with_audit_hook): called with every
/// [`AuditEvent`], on the request's task, after the event is logged. Keep it quick (hand the event to a
/// channel to write it elsewhere): the request waits for it.
#[derive(Clone)]
pub struct AuditHook(Arc<dyn Fn(&AuditEvent<'_>) + Send + Sync>);

impl AuditHook {
    /// A hook calling `hook`.
    ///
    /// ```
    /// use scopes_runtime::observing::{AuditEvent, AuditHook};
    /// let hook = AuditHook::new(|event: &AuditEvent<'_>| {
    ///     if let AuditEvent::Decision(decision) = event {
    ///         println!("{} {:?}", decision.outcome, decision.subject);
    ///     }
    /// });
    /// # let _ = hook;
    /// ```
    pub fn new(hook: impl Fn(&AuditEvent<'_>) + Send + Sync + 'static) -> Self {
        AuditHook(Arc::new(hook))
    }
}

impl fmt::Debug for AuditHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuditHook")
    }
}

/// `value` cut to [`MAX_FIELD_BYTES`] at a character boundary, with `…` after a cut.
pub fn bounded(value: &str) -> Cow<'_, str> {
    if value.len() <= MAX_FIELD_BYTES {
        return Cow::Borrowed(value);
    }
    let mut end = MAX_FIELD_BYTES;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    Cow::Owned(format!("{}…", &value[..end]))
}

/// Whether a decision with `outcome` is logged at the level in force, or a hook wants it: otherwise only its
/// metric is recorded, and the event is never built.
pub(crate) fn decision_wanted(outcome: Outcome, hook: Option<&AuditHook>) -> bool {
    hook.is_some()
        || match decision_level(outcome) {
            tracing::Level::DEBUG => tracing::enabled!(target: TARGET, tracing::Level::DEBUG),
            tracing::Level::WARN => tracing::enabled!(target: TARGET, tracing::Level::WARN),
            _ => tracing::enabled!(target: TARGET, tracing::Level::INFO),
        }
}

/// The level a decision with `outcome` is logged at: a grant at DEBUG, a refusal at INFO, a check that could
/// not be made at WARN. (`tracing` takes a level as a constant at each call: the callers match on this.)
fn decision_level(outcome: Outcome) -> tracing::Level {
    match outcome {
        Outcome::Granted => tracing::Level::DEBUG,
        Outcome::Unavailable | Outcome::Error => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    }
}

/// Logs `event` under [`TARGET`], counts what the decision counter does not, and hands it to `hook`.
pub(crate) fn emit(event: &AuditEvent<'_>, hook: Option<&AuditHook>) {
    match event {
        AuditEvent::Decision(decision) => log_decision(decision),
        AuditEvent::Login(login) => {
            metrics::counter!(names::LOGINS, "outcome" => login.outcome.label()).increment(1);
            tracing::info!(
                target: TARGET,
                event = "login",
                outcome = login.outcome.label(),
                username = login.username.as_ref(),
                client = login.client.map(tracing::field::display),
                "login {}",
                login.outcome.label(),
            );
        }
        AuditEvent::Refresh(refresh) => {
            metrics::counter!(names::REFRESHES, "outcome" => refresh.outcome.label()).increment(1);
            // Names as given are logged quoted and escaped: a username cannot forge a log line.
            let user = refresh.user.as_deref();
            let family = refresh.family.as_deref().map(tracing::field::display);
            let client = refresh.client.map(tracing::field::display);
            let outcome = refresh.outcome.label();
            if refresh.outcome == RefreshOutcome::Reused {
                tracing::warn!(
                    target: TARGET, event = "refresh", outcome, user, family, client,
                    "a refresh token that is no longer current was presented: its family is revoked (a replay, or two \
                     uses at once)"
                );
            } else {
                tracing::info!(target: TARGET, event = "refresh", outcome, user, family, client, "refresh {outcome}");
            }
        }
        AuditEvent::Revocation(revocation) => {
            let (kind, user, family) = match revocation {
                Revocation::AccessToken { user } => ("access_token", Some(&**user), None),
                Revocation::RefreshFamily { family } => {
                    ("refresh_family", None, Some(tracing::field::display(&**family)))
                }
            };
            metrics::counter!(names::REVOCATIONS, "kind" => kind).increment(1);
            tracing::info!(target: TARGET, event = "revocation", kind, user, family, "token revoked");
        }
    }
    if let Some(AuditHook(hook)) = hook {
        hook(event);
    }
}

fn log_decision(decision: &Decision<'_>) {
    let verdict = if decision.outcome.is_granted() { "granted" } else { "refused" };
    macro_rules! decision_event {
        ($level:ident) => {
            tracing::$level!(
                target: TARGET,
                event = "decision",
                decision = verdict,
                reason = decision.outcome.reason(),
                route = decision.route,
                method = decision.method,
                subject = decision.subject.as_deref(),
                issuer = decision.issuer.as_deref(),
                requirement = decision.requirement.as_str(),
                rule = decision.rule,
                client = decision.client.map(tracing::field::display),
                request_id = decision.request_id.as_deref(),
                by = if decision.by_handler { "handler" } else { "guard" },
                "authorization {verdict}",
            )
        };
    }
    match decision_level(decision.outcome) {
        tracing::Level::DEBUG => decision_event!(debug),
        tracing::Level::WARN => decision_event!(warn),
        _ => decision_event!(info),
    }
}

impl LoginOutcome {
    /// The `outcome` label of `scopes_logins_total`.
    pub const fn label(self) -> &'static str {
        match self {
            LoginOutcome::Granted => "granted",
            LoginOutcome::InvalidGrant => "invalid_grant",
            LoginOutcome::Throttled => "throttled",
            LoginOutcome::QueueFull => "queue_full",
            LoginOutcome::Unavailable => "unavailable",
            LoginOutcome::InvalidRequest => "invalid_request",
            LoginOutcome::Error => "error",
        }
    }
}

impl RefreshOutcome {
    /// The `outcome` label of `scopes_refresh_grants_total`.
    pub const fn label(self) -> &'static str {
        match self {
            RefreshOutcome::Granted => "granted",
            RefreshOutcome::InvalidGrant => "invalid_grant",
            RefreshOutcome::Reused => "reused",
            RefreshOutcome::Throttled => "throttled",
            RefreshOutcome::Unavailable => "unavailable",
            RefreshOutcome::InvalidRequest => "invalid_request",
            RefreshOutcome::Error => "error",
        }
    }
}

/// Whom a decision is about, as the verified token names them: what the guard chain records once a token
/// verified, read only when the decision is told. Implemented by the claims, which live a room above.
pub(crate) trait Subjected: std::fmt::Debug + Send + Sync {
    /// The token's subject.
    fn subject(&self) -> &str;
    /// The token's issuer, when it names one.
    fn issuer(&self) -> Option<&str>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_field_is_cut_at_a_character_boundary() {
        let long = "é".repeat(5_000);
        let cut = bounded(&long);
        assert!(cut.len() <= MAX_FIELD_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
        assert_eq!(bounded("johndoe"), "johndoe");
    }
}

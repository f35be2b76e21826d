//! What an operator sees: one structured `tracing` event per authorization decision and per token-endpoint
//! outcome (target [`TARGET`], `scopes::authz`), the same as a typed [`AuditEvent`] for an app's
//! [`AuditHook`], and metrics through the `metrics` facade ([`metrics`]).
//!
//! Levels: a refusal is logged at INFO (WARN when the check could not be made: `unavailable`, `error`), a
//! grant at DEBUG; a login, refresh or revocation at INFO, a reused refresh token at WARN. Never a token,
//! a password or a secret; subjects, usernames, issuers and request ids cut to [`MAX_FIELD_BYTES`].
//!
//! The decision event's fields: `event` (`decision`), `decision` (`granted`, `refused`), `reason`
//! ([`Outcome::reason`]), `route` (the path template), `method`, `subject` and `issuer` (once the token
//! verified), `requirement` (the scope sets that meet the route's requirement), `rule`, `client` (with
//! `ConnectInfo`), `request_id` (the `x-request-id` header).

mod counting;
mod event;
pub mod metrics;
mod outcome;
pub(crate) mod route;

pub(crate) use counting::{Counted, RouteKeys, count_decision};
pub use event::{
    AuditEvent, AuditHook, Decision, Login, LoginOutcome, MAX_FIELD_BYTES, Refresh, RefreshOutcome, Revocation, TARGET,
    bounded,
};
pub(crate) use event::{Subjected, decision_wanted, emit};
pub use outcome::{InvalidToken, Outcome};

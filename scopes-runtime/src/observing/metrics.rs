//! The metrics the framework records through the [`metrics`](https://docs.rs/metrics) facade: their names,
//! and [`describe`], which gives the installed recorder their help texts and units. No exporter is
//! installed by the library: an app picks one (the demo serves `metrics-exporter-prometheus`'s text).
//!
//! Every label is bounded: route templates (never raw paths), methods, outcomes of a closed list, verifier
//! kinds, configured issuers, store names. Never a subject, a username or a token.

/// Counter: authorization decisions, by `route` (the path template, `unmatched` outside a route), `method`
/// (`other` for a non-standard one) and `outcome` ([`Outcome::label`](super::Outcome::label): `granted`,
/// `missing_token`, `malformed`, `invalid_token`, `insufficient_scope`, `rule_refused`, `not_found`,
/// `inactive`, `unavailable`, `refused`, `error`).
pub const DECISIONS: &str = "scopes_authz_decisions_total";
/// Histogram, seconds: how long verifying a token took, by `verifier` (`shared_secret`, `key_set`,
/// `providers`, `key_ring`, or an app verifier's [`kind`](crate::verifying::Verifier::kind)).
pub const TOKEN_VERIFICATION: &str = "scopes_token_verification_seconds";
/// Counter: lookups in the authority's cache of verified tokens ([`TokenCache`](crate::verifying::TokenCache)),
/// by `result` (`hit`: a verified token; `refused_hit`: a token refused lately, refused again; `miss`: verified
/// now). The hit rate is `hit / (hit + miss)` (refusals aside). Cache hits are not in
/// `scopes_token_verification_seconds`.
pub const TOKEN_CACHE_LOOKUPS: &str = "scopes_token_cache_lookups_total";
/// Counter: fetches of a provider's key set (and discovery document), by `issuer` and `result` (`success`,
/// `failure`).
pub const JWKS_FETCHES: &str = "scopes_jwks_fetches_total";
/// Gauge, Unix seconds: when a provider's key set was last fetched successfully, by `issuer`; its age is
/// `time() - scopes_jwks_last_success_timestamp_seconds`.
pub const JWKS_LAST_SUCCESS: &str = "scopes_jwks_last_success_timestamp_seconds";
/// Counter: tokens whose key was looked up in a provider's key set in hand, by `issuer` and `result` (`hit`:
/// found; `miss`: not found, which may prompt a fetch).
pub const JWKS_KEY_LOOKUPS: &str = "scopes_jwks_key_lookups_total";
/// Counter: logins at the token endpoint, by `outcome` (`granted`, `invalid_grant`, `throttled`,
/// `queue_full`, `unavailable`, `invalid_request`, `error`).
pub const LOGINS: &str = "scopes_logins_total";
/// Counter: login attempts the throttle refused unchecked, because the username and address, or the address,
/// reached its limit of failed logins (each is also a `throttled` login).
pub const THROTTLE_LOCKS: &str = "scopes_login_throttle_locks_total";
/// Gauge: logins waiting for a password check.
pub const PASSWORD_QUEUE_DEPTH: &str = "scopes_password_check_queue_depth";
/// Histogram, seconds: how long a login waited for a password check to start.
pub const PASSWORD_QUEUE_WAIT: &str = "scopes_password_check_wait_seconds";
/// Counter: refresh-token grants, by `outcome` (`granted`, `invalid_grant`, `reused`, `throttled`,
/// `unavailable`, `invalid_request`, `error`).
pub const REFRESHES: &str = "scopes_refresh_grants_total";
/// Counter: revocations, by `kind` (`access_token`, `refresh_family`).
pub const REVOCATIONS: &str = "scopes_revocations_total";
/// Counter: errors of a backing store, by `store` (`accounts`, `refresh_tokens`, `redis`).
pub const STORE_ERRORS: &str = "scopes_store_errors_total";

/// Gives the installed recorder every metric's help text and unit. Call it once, after installing one (a
/// recorder installed later has none; the metrics are recorded all the same).
///
/// ```
/// scopes_runtime::observing::metrics::describe();
/// ```
pub fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(DECISIONS, Unit::Count, "Authorization decisions, by route template, method and outcome.");
    describe_histogram!(TOKEN_VERIFICATION, Unit::Seconds, "Time to verify a token, by verifier kind.");
    describe_counter!(TOKEN_CACHE_LOOKUPS, Unit::Count, "Lookups in the cache of verified tokens, by result.");
    describe_counter!(JWKS_FETCHES, Unit::Count, "Fetches of an identity provider's key set, by issuer and result.");
    describe_gauge!(JWKS_LAST_SUCCESS, Unit::Seconds, "Unix time of the last successful key-set fetch, by issuer.");
    describe_counter!(
        JWKS_KEY_LOOKUPS,
        Unit::Count,
        "Key lookups in a provider's key set in hand, by issuer and result."
    );
    describe_counter!(LOGINS, Unit::Count, "Logins at the token endpoint, by outcome.");
    describe_counter!(THROTTLE_LOCKS, Unit::Count, "Login attempts refused by the throttle.");
    describe_gauge!(PASSWORD_QUEUE_DEPTH, Unit::Count, "Logins waiting for a password check.");
    describe_histogram!(PASSWORD_QUEUE_WAIT, Unit::Seconds, "Time a login waited for its password check to start.");
    describe_counter!(REFRESHES, Unit::Count, "Refresh-token grants, by outcome.");
    describe_counter!(REVOCATIONS, Unit::Count, "Revocations, by kind.");
    describe_counter!(STORE_ERRORS, Unit::Count, "Errors of a backing store, by store.");
}

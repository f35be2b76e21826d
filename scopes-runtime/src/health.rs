//! Whether the app can serve: [`Readiness`], the checks a load balancer or an orchestrator asks before
//! sending traffic (every provider's keys in hand, the account store and Redis reachable), and
//! [`liveness`], which asks nothing. Mount them as public routes (`/readyz`, `/healthz`).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::authority::Authority;

type Probe = Arc<dyn Fn() -> Pin<Box<dyn Future<Output = Result<(), String>> + Send>> + Send + Sync>;

/// The checks that say whether the app is ready to serve; each run at every [`check`](Self::check), all at
/// once, each within a timeout (two seconds unless [`with_timeout`](Self::with_timeout) says otherwise), so a
/// stalled database answers "not ready" rather than never. Cheap to clone.
///
/// ```
/// use axum::{Router, routing::get};
/// use scopes_runtime::Authority;
/// use scopes_runtime::health::{Readiness, liveness};
///
/// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
/// let readiness = Readiness::new()
///     .with_authority(&authority)
///     .with_check("cache", || async { Ok(()) }); // the app's own dependency
/// let app: Router = Router::new()
///     .route("/readyz", get(move || { let readiness = readiness.clone(); async move { readiness.check().await } }))
///     .route("/healthz", get(liveness));
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// #     let readiness = Readiness::new().with_authority(&authority);
/// assert!(readiness.check().await.is_ready());
/// # });
/// ```
#[derive(Clone)]
pub struct Readiness {
    checks: Vec<(&'static str, Probe)>,
    timeout: Duration,
}

impl std::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.checks.iter().map(|(name, _)| *name).collect();
        f.debug_struct("Readiness").field("checks", &names).field("timeout", &self.timeout).finish()
    }
}

impl Default for Readiness {
    fn default() -> Self {
        Readiness { checks: Vec::new(), timeout: Duration::from_secs(2) }
    }
}

impl Readiness {
    /// No checks yet: ready.
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs each check within `timeout`.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Adds the check `name`: ready while `probe` answers `Ok`; its error says why not.
    pub fn with_check<F, Fut>(mut self, name: &'static str, probe: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.checks.push((name, Arc::new(move || Box::pin(probe()))));
        self
    }

    /// Adds `identity_provider`: not ready until every provider of `authority` has its key set (an authority
    /// of a shared secret, a key set or a key ring is ready at once).
    pub fn with_authority(self, authority: &Authority) -> Self {
        let authority = authority.clone();
        self.with_check("identity_provider", move || {
            let without: Vec<String> = authority.providers_without_keys().into_iter().map(str::to_owned).collect();
            async move {
                match without.as_slice() {
                    [] => Ok(()),
                    issuers => Err(format!("no key set fetched yet from {}", issuers.join(", "))),
                }
            }
        })
    }

    /// Adds `name` (`accounts`, say): not ready while `store` cannot answer `SELECT 1`.
    #[cfg(feature = "sql")]
    pub fn with_sql_store(self, name: &'static str, store: &crate::store::SqlStore) -> Self {
        let store = store.clone();
        self.with_check(name, move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|error| error.to_string()) }
        })
    }

    /// Adds `redis`: not ready while the login throttle's Redis does not answer `PING`.
    #[cfg(feature = "redis")]
    pub fn with_redis(self, throttle: &crate::issuing::RedisThrottle) -> Self {
        let throttle = throttle.clone();
        self.with_check("redis", move || {
            let throttle = throttle.clone();
            async move { throttle.ping().await }
        })
    }

    /// Runs every check at once; the report says which failed and why.
    pub async fn check(&self) -> ReadinessReport {
        let timeout = self.timeout;
        let runs = self.checks.iter().map(|(name, probe)| async move {
            let outcome = match tokio::time::timeout(timeout, probe()).await {
                Ok(outcome) => outcome,
                Err(_) => Err(format!("no answer within {timeout:?}")),
            };
            CheckResult { name, error: outcome.err() }
        });
        ReadinessReport { checks: futures_util::future::join_all(runs).await }
    }
}

/// What [`Readiness::check`] found: answered 200 `{"status": "ready", "checks": {...}}` when every check
/// passed, 503 `{"status": "not_ready", ...}` (with `Retry-After`) otherwise; each check `"ok"` or why not.
#[derive(Debug, Clone)]
pub struct ReadinessReport {
    checks: Vec<CheckResult>,
}

/// One check's result.
#[derive(Debug, Clone)]
struct CheckResult {
    name: &'static str,
    error: Option<String>,
}

impl ReadinessReport {
    /// Whether every check passed.
    pub fn is_ready(&self) -> bool {
        self.checks.iter().all(|check| check.error.is_none())
    }

    /// Each check's name and, if it failed, why.
    pub fn checks(&self) -> impl Iterator<Item = (&'static str, Option<&str>)> {
        self.checks.iter().map(|check| (check.name, check.error.as_deref()))
    }
}

/// The body of `/readyz` and `/healthz`, as the document describes it.
#[derive(Debug, Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HealthBody {
    /// `ok` (alive), `ready` or `not_ready`.
    pub status: &'static str,
    /// Each check's result: `ok`, or why it failed. Empty for liveness.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub checks: std::collections::BTreeMap<&'static str, String>,
}

impl IntoResponse for ReadinessReport {
    fn into_response(self) -> Response {
        let ready = self.is_ready();
        let checks = self.checks.into_iter().map(|check| (check.name, check.error.unwrap_or_else(|| "ok".into())));
        let body = HealthBody { status: if ready { "ready" } else { "not_ready" }, checks: checks.collect() };
        let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        if !ready {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// Liveness: 200 `{"status": "ok"}` while the process answers at all; asks no dependency (a database outage
/// must not get the process restarted).
pub async fn liveness() -> Response {
    let body = HealthBody { status: "ok", checks: Default::default() };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failing_or_stalled_check_makes_it_not_ready() {
        let readiness = Readiness::new()
            .with_timeout(Duration::from_millis(50))
            .with_check("up", || async { Ok(()) })
            .with_check("down", || async { Err("refused".to_owned()) })
            .with_check("stalled", std::future::pending);
        let report = readiness.check().await;
        assert!(!report.is_ready());
        let checks: Vec<_> = report.checks().collect();
        assert_eq!(checks[0], ("up", None));
        assert_eq!(checks[1], ("down", Some("refused")));
        assert_eq!(checks[2].0, "stalled");
        assert!(checks[2].1.unwrap().starts_with("no answer within"));
        let response = report.into_response();
        assert_eq!(response.status(), 503);
        assert_eq!(response.headers()["retry-after"], "5");
    }

    #[tokio::test]
    async fn no_checks_is_ready() {
        let response = Readiness::new().check().await.into_response();
        assert_eq!(response.status(), 200);
    }
}

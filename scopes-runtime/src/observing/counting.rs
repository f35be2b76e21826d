//! Counting on the request path without building a metric's key each time: a key (its labels and hash) is
//! built once and handed to whichever recorder is installed when the count is made, so a recorder installed
//! after the app was built still gets every count, and with none installed a count costs a few dozen
//! instructions and no allocation.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, OnceLock};

use arc_swap::ArcSwap;
use metrics::{Key, Label, Level, Metadata};

use super::metrics::DECISIONS;
use super::outcome::Outcome;

const METADATA: Metadata<'static> = Metadata::new("scopes::authz", Level::INFO, Some(module_path!()));

/// A metric's key, built once.
#[derive(Debug, Clone)]
pub(crate) struct Counted(Key);

impl Counted {
    /// The key of `name` with `labels`.
    pub(crate) fn new(name: &'static str, labels: Vec<Label>) -> Self {
        Counted(Key::from_parts(name, labels))
    }

    /// Adds one to the counter.
    pub(crate) fn increment(&self) {
        metrics::with_recorder(|recorder| recorder.register_counter(&self.0, &METADATA).increment(1));
    }

    /// Records `value` in the histogram.
    pub(crate) fn record(&self, value: impl metrics::IntoF64) {
        metrics::with_recorder(|recorder| recorder.register_histogram(&self.0, &METADATA).record(value));
    }
}

/// The methods a decision's `method` label names: the standard ones, and `other`.
const METHODS: [&str; 10] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT", "other"];

/// The method as a label: one of the standard methods, or `other` (a client may send any token as a method).
pub(crate) fn method_label(method: &str) -> (usize, &'static str) {
    let index = METHODS[..9].iter().position(|known| *known == method).unwrap_or(9);
    (index, METHODS[index])
}

/// One route's path template and its decision keys, by method and outcome, each built at its first count.
pub(crate) struct RouteKeys {
    route: String,
    keys: [OnceLock<Counted>; METHODS.len() * Outcome::COUNT],
}

impl RouteKeys {
    /// The keys of the route at `route` (its whole path template).
    pub(crate) fn new(route: &str) -> Self {
        RouteKeys { route: route.to_owned(), keys: std::array::from_fn(|_| OnceLock::new()) }
    }

    /// The route's path template.
    pub(crate) fn route(&self) -> &str {
        &self.route
    }

    /// Counts a decision at this route in `scopes_authz_decisions_total`.
    pub(crate) fn count(&self, method: &str, outcome: Outcome) {
        let (method_index, method) = method_label(method);
        let slot = &self.keys[method_index * Outcome::COUNT + outcome.index()];
        slot.get_or_init(|| {
            let labels = vec![
                Label::new("route", self.route.clone()),
                Label::new("method", method),
                Label::new("outcome", outcome.label()),
            ];
            Counted::new(DECISIONS, labels)
        })
        .increment();
    }
}

/// Every route's decision keys, read without a lock; a route met for the first time is added by copying
/// the map (routes are the app's path templates: few, and all met early).
static DECISION_KEYS: LazyLock<ArcSwap<RouteMap>> = LazyLock::new(ArcSwap::default);

type RouteMap = HashMap<String, Arc<RouteKeys>, foldhash::fast::FixedState>;

/// Counts a decision at `route`, a route no `SecureRouter` labelled (`unmatched` if `None`), in
/// `scopes_authz_decisions_total`, through a map of routes.
pub(crate) fn count_decision(route: Option<&str>, method: &str, outcome: Outcome) {
    let route = route.unwrap_or("unmatched");
    let map = DECISION_KEYS.load();
    match map.get(route) {
        Some(keys) => keys.count(method, outcome),
        None => route_keys(route).count(method, outcome),
    }
}

/// `route`'s keys, added to the map if no other request added them meanwhile.
fn route_keys(route: &str) -> Arc<RouteKeys> {
    let fresh = Arc::new(RouteKeys::new(route));
    let mut kept = fresh.clone();
    DECISION_KEYS.rcu(|map| {
        let mut map = RouteMap::clone(map);
        kept = map.entry(route.to_owned()).or_insert_with(|| fresh.clone()).clone();
        map
    });
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_method_is_labelled_other() {
        assert_eq!(method_label("GET"), (0, "GET"));
        assert_eq!(method_label("BREW"), (9, "other"));
    }
}

//! The route a request was routed to, as its decision's `route` names it: the path template a
//! [`SecureRouter`](crate::routing::SecureRouter) routed it at, set while the route's handler runs (a task-local,
//! so nothing is inserted into the request), and read by the guard that decides.

use std::sync::{Arc, OnceLock};

use super::counting::RouteKeys;

/// Where a route's whole path template (and its decision counters' keys) is written once the router knows
/// it (when it is made whole, in `SecureRouter::into_parts`), shared by the route's handlers.
pub(crate) type RouteSlot = Arc<OnceLock<RouteKeys>>;

tokio::task_local! {
    /// The route whose handler is running.
    static CURRENT_ROUTE: RouteSlot;
}

/// Runs `poll` (a handler's future polled) with `slot` as the current route.
pub(crate) fn within<T>(slot: &RouteSlot, poll: impl FnOnce() -> T) -> T {
    CURRENT_ROUTE.sync_scope(slot.clone(), poll)
}

/// The current route, if a `SecureRouter` set one.
pub(crate) fn current() -> Option<RouteSlot> {
    CURRENT_ROUTE.try_with(RouteSlot::clone).ok()
}

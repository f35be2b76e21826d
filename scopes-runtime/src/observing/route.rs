//! The route a request was routed to, as its decision's `route` names it: the path template a
//! [`SecureRouter`](crate::routing::SecureRouter) routed it at, set while the route's handler runs (a task-local,
//! so nothing is inserted into the request), and read by the guard that decides. The guard leaves there the
//! subject of the token it granted, so that a refusal the handler itself returns is told with it.

use std::cell::Cell;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use tokio::task::futures::TaskLocalFuture;

use super::counting::RouteKeys;
use super::event::Subjected;

/// Where a route's whole path template (and its decision counters' keys) is written once the router knows
/// it (when it is made whole, in `SecureRouter::into_parts`), shared by the route's handlers.
pub(crate) type RouteSlot = Arc<OnceLock<RouteKeys>>;

/// The request a `SecureRouter` handler is serving: its route, and the subject its guard granted.
pub(crate) struct Current {
    route: RouteSlot,
    granted: Cell<Option<Arc<dyn Subjected>>>,
}

impl Current {
    /// The route.
    pub(crate) fn route(&self) -> &RouteSlot {
        &self.route
    }

    /// The subject the guard granted the request to, unless a later check of the chain refused it.
    pub(crate) fn take_granted(&self) -> Option<Arc<dyn Subjected>> {
        self.granted.take()
    }
}

tokio::task_local! {
    /// The request whose handler is running.
    static CURRENT: Current;
}

/// `handler` (a handler's future) run with `slot` as the current route; its [`Current`] is taken back from
/// the future once it has answered (`TaskLocalFuture::take_value`).
pub(crate) fn scope<F: Future>(slot: RouteSlot, handler: F) -> TaskLocalFuture<Current, F> {
    CURRENT.scope(Current { route: slot, granted: Cell::new(None) }, handler)
}

/// The current route, if a `SecureRouter` set one.
pub(crate) fn current() -> Option<RouteSlot> {
    CURRENT.try_with(|current| current.route.clone()).ok()
}

/// Remembers that the guard granted the request to `subject` (the pointer shared, only within a
/// `SecureRouter`'s handler: elsewhere nothing would read it).
pub(crate) fn remember_granted<T: Subjected + 'static>(subject: &Arc<T>) {
    let _ = CURRENT.try_with(|current| current.granted.set(Some(subject.clone())));
}

/// Forgets the grant: the chain refused after all.
pub(crate) fn forget_granted() {
    let _ = CURRENT.try_with(|current| current.granted.set(None));
}

//! The authorization report a [`SecureRouter`](super::SecureRouter) collects: every route, its method and
//! path, and who may call it.

use std::fmt;

use crate::registry::{Access, Assurance};

/// The path a [`SecureRouter::fallback`](super::SecureRouter::fallback) is reported at.
pub const FALLBACK: &str = "(fallback)";

/// The path a plain router merged as public ([`SecureRouter::public_merge`](super::SecureRouter::public_merge))
/// is reported at: its routes cannot be read from it.
pub const MERGED: &str = "(merged router)";

/// One route of a [`RouteTable`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// The method, e.g. `GET`; `*` for a [`SecureRouter::public_route`](super::SecureRouter::public_route), which may serve any.
    pub method: String,
    /// The path as routed, e.g. `/users/{id}`.
    pub path: String,
    /// Who may call it.
    pub access: Access,
    /// What it asks of the token beyond scopes.
    pub assurance: Assurance,
}

impl Route {
    /// A public route of `method` at `path`.
    pub fn public(method: &str, path: &str) -> Self {
        Route { method: method.to_owned(), path: path.to_owned(), access: Access::Public, assurance: Assurance::NONE }
    }

    /// Whether this is the route of `method` (any case) at `path`, as written in the router.
    pub fn serves(&self, method: &str, path: &str) -> bool {
        self.path == path && self.method.eq_ignore_ascii_case(method)
    }
}

/// Every route of a [`SecureRouter`](super::SecureRouter) and who may call it, in the order they were added: the app's
/// authorization report. Its `Display` is one line per route: method, path, requirement.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RouteTable {
    pub(super) routes: Vec<Route>,
}

impl RouteTable {
    /// The routes, in the order they were added.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// This table followed by `other`'s routes: the report of two routers merged into one.
    pub fn merge(mut self, other: RouteTable) -> RouteTable {
        self.routes.extend(other.routes);
        self
    }

    /// The route serving `method` at `path`, if any.
    pub fn find(&self, method: &str, path: &str) -> Option<&Route> {
        self.routes.iter().find(|route| route.serves(method, path))
    }
}

impl fmt::Display for RouteTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let method_width = self.routes.iter().map(|route| route.method.len()).max().unwrap_or(0);
        let path_width = self.routes.iter().map(|route| route.path.len()).max().unwrap_or(0);
        for route in &self.routes {
            if route.assurance.is_none() {
                writeln!(f, "{:method_width$} {:path_width$}  {}", route.method, route.path, route.access)?;
            } else {
                let (method, path, access, assurance) = (&route.method, &route.path, &route.access, &route.assurance);
                writeln!(f, "{method:method_width$} {path:path_width$}  {access}; {assurance}")?;
            }
            for note in route.access.redundancies() {
                writeln!(f, "{:method_width$} {:path_width$}    note: {note}", "", "")?;
            }
        }
        Ok(())
    }
}

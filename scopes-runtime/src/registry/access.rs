//! Who may call a route ([`Access`]): anyone, or whoever meets the requirement of each layer of its guard
//! chain. What the route table reports and the OpenAPI document states.

use std::fmt;

use super::requirement::{Alternatives, alternatives_of};

/// Who may call a route.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Access {
    /// Anyone: a `#[public]` handler or a [`SecureRouter::public_route`](crate::routing::SecureRouter::public_route).
    Public,
    /// A verified token meeting every layer's requirement, outermost (the handler's own) first.
    Requires(Vec<Alternatives>),
}

impl Access {
    /// The scope sets that would each be enough, each set outermost layer first: `[[]]` for
    /// authentication alone, `None` for a public route.
    pub fn alternatives(&self) -> Option<Vec<Vec<&'static str>>> {
        match self {
            Access::Public => None,
            Access::Requires(layers) => Some(alternatives_of(layers)),
        }
    }
}

impl Access {
    /// What a scope hierarchy makes redundant in the requirement: legal, but it says less than it seems.
    /// An alternative that implies another of its layer adds nothing (`any("notes:write", "admin")` when
    /// `admin` implies `notes:write` is just `notes:write`); nor does a scope another scope of its set
    /// implies (`all("notes:read", "notes:write")` is just `notes:write`). The route table prints each.
    ///
    /// ```
    /// use scopes_runtime::Scope;
    /// use scopes_runtime::routing::Access;
    ///
    /// const WRITE: Scope = Scope { name: "notes:write", description: "", implies: &[], implied_by: &["admin"] };
    /// const ADMIN: Scope = Scope { name: "admin", description: "", implies: &["notes:write"], implied_by: &[] };
    /// let access = Access::Requires(vec![&[&[WRITE], &[ADMIN]]]);
    /// assert_eq!(access.redundancies(), ["`admin` adds nothing: it implies `notes:write`, already enough"]);
    /// ```
    pub fn redundancies(&self) -> Vec<String> {
        let Access::Requires(layers) = self else { return Vec::new() };
        let mut notes = Vec::new();
        for layer in layers {
            for (index, alternative) in layer.iter().enumerate() {
                let names: Vec<&str> = alternative.iter().map(|scope| scope.name).collect();
                for scope in alternative.iter() {
                    let implied_by =
                        alternative.iter().find(|other| other.name != scope.name && scope.is_held_by(&[other.name]));
                    if let Some(other) = implied_by {
                        notes.push(format!("`{}` adds nothing: `{}` implies it", scope.name, other.name));
                    }
                }
                let weaker = layer.iter().enumerate().find(|(other_index, other)| {
                    *other_index != index && !other.is_empty() && other.iter().all(|scope| scope.is_held_by(&names))
                });
                if let Some((_, weaker)) = weaker {
                    let weaker: Vec<&str> = weaker.iter().map(|scope| scope.name).collect();
                    notes.push(format!(
                        "`{}` adds nothing: it implies `{}`, already enough",
                        names.join(" "),
                        weaker.join(" ")
                    ));
                }
            }
        }
        notes.dedup();
        notes
    }
}

impl fmt::Display for Access {
    /// `public`; `authenticated` (a token, no scope); `me AND items`; `(reports AND me) OR (admin AND me)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(alternatives) = self.alternatives() else { return f.write_str("public") };
        if alternatives.iter().all(Vec::is_empty) {
            return f.write_str("authenticated");
        }
        let several = alternatives.len() > 1;
        let written: Vec<String> = alternatives
            .iter()
            .map(|scopes| {
                let all = scopes.join(" AND ");
                if several && scopes.len() > 1 { format!("({all})") } else { all }
            })
            .collect();
        f.write_str(&written.join(" OR "))
    }
}

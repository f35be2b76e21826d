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
    /// As [`Requires`](Access::Requires), with a resource rule in some of the outermost layer's
    /// alternatives ([`Rule`](crate::enforcement::Rule)): those count by their scopes here, and the rule
    /// decides once they are met.
    Ruled(Vec<Alternatives>, RuleAccess),
}

/// How a rule's refusal is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// 404, exactly as a missing resource is answered, so that a refusal does not disclose that the
    /// resource exists: the default.
    NotFound,
    /// 403 in the authority's [`ResponseStyle`](crate::ResponseStyle): `{"detail": "Not enough permissions"}`
    /// in the seed's, an `access_denied` OAuth error in the RFCs'.
    Forbidden,
}

impl Refusal {
    /// The status this refusal is answered with.
    ///
    /// ```
    /// use scopes_runtime::registry::Refusal;
    /// assert_eq!((Refusal::NotFound.status(), Refusal::Forbidden.status()), (404, 403));
    /// ```
    pub const fn status(self) -> u16 {
        match self {
            Refusal::NotFound => 404,
            Refusal::Forbidden => 403,
        }
    }
}

/// The resource rule of a route, as the route report and the OpenAPI document state it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RuleAccess {
    /// The rule's name (`owner`).
    pub name: &'static str,
    /// What the rule asks.
    pub description: &'static str,
    /// How its refusal is answered.
    pub refusal: Refusal,
    /// The `detail` of the 404 a missing resource is answered with.
    pub not_found: &'static str,
    /// The path parameters the rule reads.
    pub path_params: &'static [&'static str],
    /// For each alternative of the outermost layer, whether the rule is part of it: `[true, false]` for
    /// `any(rule(ItemOwner), "admin")`.
    pub ruled: &'static [bool],
}

impl RuleAccess {
    #[doc(hidden)]
    pub const fn __new(
        name: &'static str,
        description: &'static str,
        refusal: Refusal,
        not_found: &'static str,
        path_params: &'static [&'static str],
        ruled: &'static [bool],
    ) -> Self {
        RuleAccess { name, description, refusal, not_found, path_params, ruled }
    }
}

impl Access {
    /// The scope sets that would each be enough, each set outermost layer first: `[[]]` for
    /// authentication alone, `None` for a public route. A ruled alternative counts by its scopes.
    pub fn alternatives(&self) -> Option<Vec<Vec<&'static str>>> {
        match self {
            Access::Public => None,
            Access::Requires(layers) | Access::Ruled(layers, _) => Some(alternatives_of(layers)),
        }
    }

    /// The route's resource rule, if it has one: what a test reads from the route table.
    ///
    /// ```
    /// use scopes_runtime::registry::Access;
    /// assert!(Access::Public.rule().is_none());
    /// // With the demo's table: `table.find("DELETE", "/items/{item_id}").unwrap().access.rule().unwrap().name == "owner"`.
    /// ```
    pub fn rule(&self) -> Option<&RuleAccess> {
        match self {
            Access::Ruled(_, rule) => Some(rule),
            _ => None,
        }
    }

    /// Whether a request needs a token: every route but a public one.
    ///
    /// ```
    /// use scopes_runtime::registry::Access;
    /// assert!(!Access::Public.is_guarded());
    /// assert!(Access::Requires(vec![&[&[]]]).is_guarded(), "authentication alone");
    /// ```
    pub fn is_guarded(&self) -> bool {
        !matches!(self, Access::Public)
    }

    /// Each scope set that meets the whole requirement, with whether the rule must pass too: `[(["items"],
    /// true), (["items", "admin"], false)]` for `items AND (owner OR admin)`. `None` for a public route.
    ///
    /// ```
    /// use scopes_runtime::Scope;
    /// use scopes_runtime::registry::Access;
    ///
    /// const ITEMS: Scope = Scope::new("items");
    /// let access = Access::Requires(vec![&[&[ITEMS]]]);
    /// assert_eq!(access.alternatives_with_rule(), Some(vec![(vec!["items"], false)]), "no rule");
    /// assert_eq!(Access::Public.alternatives_with_rule(), None);
    /// ```
    pub fn alternatives_with_rule(&self) -> Option<Vec<(Vec<&'static str>, bool)>> {
        let Access::Ruled(layers, rule) = self else {
            return self.alternatives().map(|all| all.into_iter().map(|scopes| (scopes, false)).collect());
        };
        let (outer, inner) = layers.split_first()?;
        let mut all: Vec<(Vec<&'static str>, bool)> = Vec::new();
        for (index, alternative) in outer.iter().enumerate() {
            let own: &[&[super::Scope]] = std::slice::from_ref(alternative);
            let mut these = vec![own];
            these.extend(inner.iter().copied());
            let ruled = rule.ruled.get(index).copied().unwrap_or(false);
            for scopes in alternatives_of(&these) {
                if !all.contains(&(scopes.clone(), ruled)) {
                    all.push((scopes, ruled));
                }
            }
        }
        Some(all)
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
        let (layers, ruled): (&Vec<Alternatives>, &[bool]) = match self {
            Access::Public => return Vec::new(),
            Access::Requires(layers) => (layers, &[]),
            Access::Ruled(layers, rule) => (layers, rule.ruled),
        };
        let mut notes = Vec::new();
        for (depth, layer) in layers.iter().enumerate() {
            // An alternative with the rule is not weaker than one without: the rule may refuse it.
            let is_ruled = |index: usize| depth == 0 && ruled.get(index).copied().unwrap_or(false);
            for (index, alternative) in layer.iter().enumerate() {
                let names: Vec<&str> = alternative.iter().map(|scope| scope.name).collect();
                for scope in alternative.iter() {
                    // A scope the rule's alternatives need too is not redundant beside the one without the
                    // rule: `items AND (owner OR admin)` needs `items` for the owner.
                    let shared_with_rule = layer
                        .iter()
                        .enumerate()
                        .any(|(other, scopes)| is_ruled(other) && scopes.iter().any(|held| held.name == scope.name));
                    if shared_with_rule && !is_ruled(index) {
                        continue;
                    }
                    let implied_by =
                        alternative.iter().find(|other| other.name != scope.name && scope.is_held_by(&[other.name]));
                    if let Some(other) = implied_by {
                        notes.push(format!("`{}` adds nothing: `{}` implies it", scope.name, other.name));
                    }
                }
                let weaker = layer.iter().enumerate().find(|(other_index, other)| {
                    *other_index != index
                        && !is_ruled(*other_index)
                        && !other.is_empty()
                        && other.iter().all(|scope| scope.is_held_by(&names))
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
    /// `public`; `authenticated` (a token, no scope); `me AND items`; `(reports AND me) OR (admin AND me)`;
    /// with a rule, the scopes every alternative shares first: `items:write AND (owner OR admin)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Access::Ruled(_, rule) = self {
            let alternatives = self.alternatives_with_rule().unwrap_or_default();
            return f.write_str(&ruled_expression(&alternatives, rule.name));
        }
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

/// `shared AND (rest OR rest)`: the scopes every alternative holds, then what each adds, the rule by name.
fn ruled_expression(alternatives: &[(Vec<&'static str>, bool)], rule: &str) -> String {
    let shared: Vec<&str> = match alternatives.first() {
        Some((first, _)) => {
            first.iter().copied().filter(|scope| alternatives.iter().all(|(other, _)| other.contains(scope))).collect()
        }
        None => Vec::new(),
    };
    let rests: Vec<Vec<&str>> = alternatives
        .iter()
        .map(|(scopes, ruled)| {
            let mut rest: Vec<&str> = scopes.iter().copied().filter(|scope| !shared.contains(scope)).collect();
            if *ruled {
                rest.push(rule);
            }
            rest
        })
        .collect();
    let several = rests.len() > 1;
    let either: Vec<String> = rests
        .iter()
        .filter(|rest| !rest.is_empty())
        .map(|rest| if several && rest.len() > 1 { format!("({})", rest.join(" AND ")) } else { rest.join(" AND ") })
        .collect();
    // An alternative that adds nothing to the shared scopes makes the others redundant.
    let any_empty = rests.iter().any(Vec::is_empty);
    let mut terms: Vec<String> = shared.iter().map(|scope| (*scope).to_owned()).collect();
    if !any_empty && !either.is_empty() {
        terms.push(if either.len() > 1 && !terms.is_empty() {
            format!("({})", either.join(" OR "))
        } else {
            either.join(" OR ")
        });
    }
    if terms.is_empty() { "authenticated".to_owned() } else { terms.join(" AND ") }
}

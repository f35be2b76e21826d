//! The scopes a verified token grants ([`Granted`]), kept by an app's principal so that a handler or a rule
//! can ask, through the hierarchy, whether the caller holds a scope named with `scope!`.

use std::fmt;
use std::sync::Arc;

use super::Scope;

/// The scopes a verified token grants, and (when the app keeps them with the user) the scopes its
/// principal is still allowed: what a check in code asks with [`holds`](Granted::holds), through the
/// registry's hierarchy. Cheap to clone (shared), and built once per request from the claims
/// ([`Claims::granted`](crate::Claims::granted)), so a principal can carry it without copying the claims.
///
/// ```
/// use scopes_runtime::Claims;
/// use scopes_runtime::registry::{Granted, scope};
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2",
///     token_url = "token",
///     scopes = {
///         "items" => "Read items.",
///         "admin" => "Administer." implies ["items"],
///     },
/// }
///
/// # fn main() {
/// let claims = Claims::new("johndoe", ["admin"], 4_000_000_000);
/// let granted = claims.granted();
/// assert!(granted.holds(scope!("admin")));
/// assert!(granted.holds(scope!("items")), "admin implies items");
/// // The account lost `admin`: the token's `admin` no longer counts, its `items` through it neither.
/// let granted = granted.within(["items"]);
/// assert!(!granted.holds(scope!("admin")));
/// assert!(granted.holds(scope!("items")));
/// # }
/// ```
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Granted {
    // Space-separated, as a scope parameter is written (a scope token has no space): one allocation each.
    token: Arc<str>,
    allowed: Option<Arc<str>>,
}

impl Granted {
    /// What a token granting `scopes` holds.
    pub fn new<S: AsRef<str>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Granted { token: names(scopes), allowed: None }
    }

    /// The same, counting a scope only where the principal's `allowed` scopes hold it too (as
    /// [`Principal::allowed_scopes`](crate::Principal::allowed_scopes) makes the guard count them).
    pub fn within<S: AsRef<str>>(self, allowed: impl IntoIterator<Item = S>) -> Self {
        Granted { token: self.token, allowed: Some(names(allowed)) }
    }

    /// Whether the caller holds `scope`: the token names it or a scope implying it (and so do the allowed
    /// scopes, when given). Name the scope with [`scope!`](crate::registry::scope), which the registry
    /// checks at compile time.
    pub fn holds(&self, scope: Scope) -> bool {
        held(&self.token, scope) && self.allowed.as_ref().is_none_or(|allowed| held(allowed, scope))
    }

    /// The token's scopes, as it names them.
    pub fn token_scopes(&self) -> impl Iterator<Item = &str> {
        self.token.split(' ').filter(|name| !name.is_empty())
    }
}

fn held(names: &str, scope: Scope) -> bool {
    names.split(' ').any(|name| !name.is_empty() && (name == scope.name || scope.implied_by.contains(&name)))
}

fn names<S: AsRef<str>>(scopes: impl IntoIterator<Item = S>) -> Arc<str> {
    let mut joined = String::new();
    for scope in scopes {
        if !joined.is_empty() {
            joined.push(' ');
        }
        joined.push_str(scope.as_ref());
    }
    Arc::from(joined)
}

impl fmt::Debug for Granted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Granted").field("token", &self.token).field("allowed", &self.allowed).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ITEMS: Scope = Scope { name: "items", description: "", implies: &[], implied_by: &["admin"] };
    const ADMIN: Scope = Scope { name: "admin", description: "", implies: &["items"], implied_by: &[] };

    #[test]
    fn a_scope_is_held_through_the_hierarchy_and_within_the_allowed_ones() {
        let granted = Granted::new(["admin"]);
        assert!(granted.holds(ADMIN) && granted.holds(ITEMS));
        assert!(!Granted::new(["items"]).holds(ADMIN));
        let narrowed = granted.clone().within(["items"]);
        assert!(!narrowed.holds(ADMIN) && narrowed.holds(ITEMS));
        assert!(!Granted::default().holds(ITEMS));
        assert!(!Granted::new([""]).holds(Scope::new("")), "an empty name is no scope");
        assert_eq!(granted.token_scopes().collect::<Vec<_>>(), ["admin"]);
    }
}

//! What a request must hold: a [`Requirement`] (every layer of a guard chain, each met by any one of its
//! alternatives) and the scope sets that would meet it ([`alternatives_of`]). Data over the declared
//! scopes, below the guards that check it and the refusals and reports that name it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use super::Scope;
use super::assurance::Assurance;
use crate::observing::{Outcome, Subjected};

/// One layer's requirement in disjunctive normal form: any of the alternatives, each all of its scopes.
/// `&[&[]]` (one alternative with no scope) requires nothing.
pub type Alternatives = &'static [&'static [Scope]];

/// The scopes a request must hold: one layer's own requirement, linked to the layers above it. Every
/// layer must be met; a layer is met by any one of its alternatives; a scope is held when the token
/// names it or a scope that implies it.
///
/// Built on the stack as the request passes down the guard chain, so checking it allocates nothing.
///
/// ```
/// use scopes_runtime::{Requirement, Scope};
///
/// const ME: Scope = Scope::new("me");
/// const ITEMS: Scope = Scope::new("items");
/// const ADMIN: Scope = Scope::new("admin");
///
/// // The handler: `items` or `admin`; the guard it builds on: `me`.
/// let handler = Requirement::new(&[&[ITEMS], &[ADMIN]]);
/// let guard = handler.then(&[&[ME]]);
/// assert_eq!(guard.alternatives(), [vec!["items", "me"], vec!["admin", "me"]]);
/// assert!(guard.is_met_by(&["me", "items"]));
/// assert!(guard.is_met_by(&["admin", "me"]));
/// assert!(!guard.is_met_by(&["me"]));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Requirement<'a> {
    own: Alternatives,
    outer: Option<&'a Requirement<'a>>,
    findings: Option<&'a Findings>,
    bypass: Option<&'a RuleBypass>,
    /// The handler's, shared by every layer.
    assurance: &'a Assurance,
}

/// What the guard chain finds out about one request on its way down, for the decision made at the top: the
/// token's subject and issuer once it verified, and why it failed if it did. Written where each is in hand,
/// read once the chain has answered. Held in every guarded request's future (boxed by axum): kept small.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    // One uncontended lock, taken once or twice a request: cheaper than a `OnceLock` per field.
    found: Mutex<Found>,
}

#[derive(Debug, Default)]
struct Found {
    subject: Option<Subject>,
    outcome: Option<Outcome>,
}

/// Whom a verified token names: its claims, shared with the token cache, not copied.
pub(crate) type Subject = Arc<dyn Subjected>;

impl Findings {
    /// A more precise outcome than the refusal says (why a token was invalid; a rule's refusal answered as a
    /// missing resource), if one was recorded. Read once the chain has answered.
    pub(crate) fn outcome(&self) -> Option<Outcome> {
        self.lock().outcome
    }

    /// The verified token's subject and issuer, if it got that far. Taken once the chain has answered.
    pub(crate) fn take_subject(&self) -> Option<Subject> {
        self.lock().subject.take()
    }

    /// Records the verified token's claims, for its subject and issuer.
    pub(crate) fn record_subject(&self, claims: Subject) {
        self.lock().subject = Some(claims);
    }

    /// Records the precise outcome of a refusal.
    pub(crate) fn record_outcome(&self, outcome: Outcome) {
        self.lock().outcome = Some(outcome);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Found> {
        // Nothing panics while it is held.
        self.found.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Of a handler with a resource rule, the alternatives that grant without the rule (`admin` in
/// `any(rule(ItemOwner), "admin")`), and whether the request met one: recorded where the token's scopes
/// are in hand, read by the rule's enforcement afterwards.
#[derive(Debug)]
pub(crate) struct RuleBypass {
    alternatives: Alternatives,
    met: AtomicBool,
}

impl RuleBypass {
    pub(crate) const fn new(alternatives: Alternatives) -> Self {
        RuleBypass { alternatives, met: AtomicBool::new(false) }
    }

    /// Whether a scope alternative without the rule was met.
    pub(crate) fn was_met(&self) -> bool {
        self.met.load(Ordering::Relaxed)
    }
}

impl<'a> Requirement<'a> {
    /// The outermost layer: a handler's own requirement.
    pub const fn new(own: Alternatives) -> Requirement<'static> {
        Requirement { own, outer: None, findings: None, bypass: None, assurance: &Assurance::NONE }
    }

    /// The outermost layer, with `findings` to record what the layers below find out.
    pub(crate) const fn finding(own: Alternatives, findings: &'a Findings) -> Requirement<'a> {
        Requirement { own, outer: None, findings: Some(findings), bypass: None, assurance: &Assurance::NONE }
    }

    /// The outermost layer of a handler with a resource rule: `own` counts the rule's alternatives by their
    /// scopes; `bypass` holds those that grant without it.
    pub(crate) const fn ruled(own: Alternatives, findings: &'a Findings, bypass: &'a RuleBypass) -> Requirement<'a> {
        Requirement { own, outer: None, findings: Some(findings), bypass: Some(bypass), assurance: &Assurance::NONE }
    }

    /// The same requirement, asking `assurance` of the token beyond its scopes.
    pub(crate) const fn assured(self, assurance: &'a Assurance) -> Requirement<'a> {
        Requirement { assurance, ..self }
    }

    /// What the handler asks beyond scopes.
    pub fn assurance(&self) -> &'a Assurance {
        self.assurance
    }

    /// The requirement one layer further in: this one and `own`.
    pub fn then(&'a self, own: Alternatives) -> Requirement<'a> {
        Requirement { own, outer: Some(self), findings: self.findings, bypass: self.bypass, assurance: self.assurance }
    }

    /// Where what the layers find out is recorded, if anywhere.
    pub(crate) fn findings(&self) -> Option<&'a Findings> {
        self.findings
    }

    /// Records, for a handler with a resource rule, whether a token granted `granted` (of a principal
    /// still allowed `allowed`, if the app says) meets a scope alternative that grants without the rule.
    /// Called once the whole requirement is met, so the inner layers need no second look.
    pub(crate) fn record_bypass<T: AsRef<str>>(&self, granted: &[T], allowed: Option<&[String]>) {
        let Some(bypass) = self.bypass else { return };
        let outermost = Requirement::new(bypass.alternatives);
        let met = match allowed {
            Some(allowed) => outermost.is_met_within(granted, allowed),
            None => outermost.is_met_by(granted),
        };
        bypass.met.store(met, Ordering::Relaxed);
    }

    /// Whether a token granted `granted` meets every layer.
    pub fn is_met_by<T: AsRef<str>>(&self, granted: &[T]) -> bool {
        self.layers()
            .all(|layer| layer.own.iter().any(|alternative| alternative.iter().all(|scope| scope.is_held_by(granted))))
    }

    /// Whether a token granted `granted`, of a principal still allowed `allowed`, meets every layer: a
    /// scope counts when both hold it ([`Principal::allowed_scopes`](crate::Principal::allowed_scopes)).
    ///
    /// ```
    /// use scopes_runtime::{Requirement, Scope};
    /// const ITEMS: Scope = Scope::new("items");
    /// let requirement = Requirement::new(&[&[ITEMS]]);
    /// assert!(requirement.is_met_within(&["items"], &["me", "items"]));
    /// assert!(!requirement.is_met_within(&["items"], &["me"]));
    /// ```
    pub fn is_met_within<T: AsRef<str>, A: AsRef<str>>(&self, granted: &[T], allowed: &[A]) -> bool {
        self.layers().all(|layer| {
            layer.own.iter().any(|alternative| {
                alternative.iter().all(|scope| scope.is_held_by(granted) && scope.is_held_by(allowed))
            })
        })
    }

    /// The scope sets that would each meet the whole requirement, outermost layer first within each: see
    /// [`alternatives_of`].
    pub fn alternatives(&self) -> Vec<Vec<&'static str>> {
        let mut layers: Vec<Alternatives> = self.layers().map(|layer| layer.own).collect();
        layers.reverse();
        alternatives_of(&layers)
    }

    fn layers(&self) -> impl Iterator<Item = &Requirement<'a>> {
        std::iter::successors(Some(self), |layer| layer.outer)
    }
}

/// The scope sets that each meet every one of `layers` (outermost first): one alternative of each layer,
/// combined, each scope once in first-seen order; repeated sets and sets that contain another are left
/// out. `[[]]` when nothing is required.
///
/// ```
/// use scopes_runtime::{registry::Alternatives, Scope, registry::alternatives_of};
///
/// const ME: Scope = Scope::new("me");
/// const ITEMS: Scope = Scope::new("items");
/// const ADMIN: Scope = Scope::new("admin");
/// const HANDLER: Alternatives = &[&[ITEMS, ME], &[ADMIN]];
/// const GUARD: Alternatives = &[&[ME]];
/// assert_eq!(alternatives_of(&[HANDLER, GUARD]), [vec!["items", "me"], vec!["admin", "me"]]);
/// ```
pub fn alternatives_of(layers: &[Alternatives]) -> Vec<Vec<&'static str>> {
    let mut combined: Vec<Vec<&'static str>> = vec![Vec::new()];
    for layer in layers {
        combined = combined
            .iter()
            .flat_map(|prefix| {
                layer.iter().map(move |alternative| {
                    unique_in_order(prefix.iter().copied().chain(alternative.iter().map(|scope| scope.name)))
                })
            })
            .collect();
    }
    let mut minimal: Vec<Vec<&'static str>> = Vec::new();
    for (index, candidate) in combined.iter().enumerate() {
        let contains = |smaller: &Vec<&str>| smaller.iter().all(|scope| candidate.contains(scope));
        // A set containing another is redundant; of equal sets the first is kept.
        let redundant = combined.iter().enumerate().any(|(other, smaller)| {
            other != index && contains(smaller) && (smaller.len() < candidate.len() || other < index)
        });
        if !redundant {
            minimal.push(candidate.clone());
        }
    }
    minimal
}

/// `scopes` with repeats left out, in first-seen order: how every scope list is reported. Lists are a few
/// scopes long, so a linear check beats hashing.
pub(crate) fn unique_in_order<'a>(scopes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut unique: Vec<&str> = Vec::new();
    for scope in scopes {
        if !unique.contains(&scope) {
            unique.push(scope);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Scope = Scope::new("me");
    const ITEMS: Scope = Scope::new("items");
    const ADMIN: Scope = Scope { name: "admin", description: "", implies: &["me", "items"], implied_by: &[] };
    const ME_UNDER_ADMIN: Scope = Scope { name: "me", description: "", implies: &[], implied_by: &["admin"] };

    #[test]
    fn alternatives_are_outermost_first_and_deduplicated() {
        let root = Requirement::new(&[&[ITEMS, ME]]);
        let middle = root.then(&[&[ME]]);
        let inner = middle.then(&[&[ADMIN]]);
        assert_eq!(inner.alternatives(), [vec!["items", "me", "admin"]]);
    }

    #[test]
    fn alternatives_multiply_across_layers_and_drop_supersets() {
        let root = Requirement::new(&[&[ITEMS], &[ADMIN], &[ITEMS, ADMIN]]);
        let inner = root.then(&[&[ME], &[ADMIN]]);
        assert_eq!(inner.alternatives(), [vec!["items", "me"], vec!["admin"]]);
    }

    #[test]
    fn empty_requirement_is_met_by_anything() {
        let none = Requirement::new(&[&[]]);
        assert!(none.is_met_by::<&str>(&[]));
        assert_eq!(none.alternatives(), [Vec::<&str>::new()]);
    }

    #[test]
    fn any_alternative_meets_a_layer_but_every_layer_must_be_met() {
        let root = Requirement::new(&[&[ITEMS], &[ADMIN]]);
        let inner = root.then(&[&[ME]]);
        assert!(inner.is_met_by(&["admin", "me"]));
        assert!(inner.is_met_by(&["items", "me"]));
        assert!(!inner.is_met_by(&["admin"]));
        assert!(!inner.is_met_by(&["me"]));
    }

    #[test]
    fn an_implying_scope_holds_the_implied_one() {
        let requirement = Requirement::new(&[&[ME_UNDER_ADMIN]]);
        assert!(requirement.is_met_by(&["admin"]));
        assert!(requirement.is_met_by(&["me"]));
        assert!(!requirement.is_met_by(&["items"]));
    }

    #[test]
    fn within_allowed_scopes_a_scope_counts_only_when_both_hold_it() {
        let requirement = Requirement::new(&[&[ME_UNDER_ADMIN]]);
        // The token's `admin` holds `me`, and so does the account's `me`.
        assert!(requirement.is_met_within(&["admin"], &["me"]));
        // The account lost `me` (and `admin`): the token's `admin` no longer holds it.
        assert!(!requirement.is_met_within(&["admin"], &["items"]));
        // The account's `admin` holds `me`, which the token must still grant.
        assert!(!requirement.is_met_within(&["items"], &["admin"]));
    }

    #[test]
    fn matching_is_exact_and_case_sensitive() {
        let requirement = Requirement::new(&[&[ITEMS]]);
        assert!(!requirement.is_met_by(&["Items"]));
        assert!(!requirement.is_met_by(&["items "]));
        assert!(!requirement.is_met_by(&["item"]));
        assert!(requirement.is_met_by(&["items"]));
    }
}

//! Step-up authentication (RFC 9470): a route that asks how recently (`max_age`) or how strongly (`acr`)
//! the user authenticated refuses a token that does not show it, with a challenge that tells the client
//! what to ask the authorization server for.

use crate::answering::error::AuthError;
use crate::authority::Authority;
use crate::keys::clock::unix_now;
use crate::observing::Outcome;
use crate::registry::{Assurance, Requirement};
use crate::verifying::Claims;

/// Checks `claims` against what `assurance` asks of the authentication: `acr` one of the route's classes,
/// or at least its `min_acr` in the authority's order; `auth_time` within `max_age` (with the policy's
/// leeway, for clock skew).
pub(crate) fn check(
    claims: &Claims,
    assurance: &Assurance,
    authority: &Authority,
    requirement: &Requirement<'_>,
) -> Result<(), AuthError> {
    if !assurance.asks_authentication() {
        return Ok(());
    }
    let acr = claims.extra.get("acr").and_then(serde_json::Value::as_str);
    let classes_met = assurance.acr.is_empty() || acr.is_some_and(|acr| assurance.acr.contains(&acr));
    let level_met = assurance.min_acr.is_none_or(|least| reaches(acr, least, authority.acr_levels()));
    let recent = assurance.max_age.is_none_or(|max_age| {
        let auth_time = claims.extra.get("auth_time").and_then(serde_json::Value::as_u64);
        let leeway = authority.policy().leeway().as_secs();
        auth_time.is_some_and(|auth_time| unix_now().saturating_sub(auth_time) <= max_age.saturating_add(leeway))
    });
    if classes_met && level_met && recent {
        return Ok(());
    }
    if let Some(findings) = requirement.findings() {
        findings.record_outcome(Outcome::InsufficientAuthentication);
    }
    let acr_values = match (assurance.acr, assurance.min_acr) {
        ([], None) => None,
        ([], Some(least)) => Some(stronger_or_equal(least, authority.acr_levels()).join(" ")),
        (classes, _) => Some(classes.join(" ")),
    };
    let refusal = AuthError::InsufficientUserAuthentication {
        acr_values,
        max_age: assurance.max_age,
        challenge: Default::default(),
    };
    Err(refusal.challenged_by(requirement))
}

/// Whether `acr` is `least` or stronger, in `levels` (weakest first).
fn reaches(acr: Option<&str>, least: &str, levels: &[String]) -> bool {
    let rank = |class: &str| levels.iter().position(|level| level == class);
    let Some(needed) = rank(least) else {
        tracing::error!(
            min_acr = least,
            "a route asks `min_acr` of a class the authority does not order (`Authority::with_acr_levels`): \
             every token is refused"
        );
        return false;
    };
    acr.and_then(rank).is_some_and(|held| held >= needed)
}

/// The classes that reach `least`, weakest first: what the challenge's `acr_values` offers.
fn stronger_or_equal<'l>(least: &'l str, levels: &'l [String]) -> Vec<&'l str> {
    match levels.iter().position(|level| level == least) {
        Some(needed) => levels[needed..].iter().map(String::as_str).collect(),
        None => vec![least],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_are_reached_by_the_class_or_a_stronger_one() {
        let levels: Vec<String> = ["pwd", "mfa", "hwk"].map(String::from).to_vec();
        assert!(reaches(Some("mfa"), "mfa", &levels) && reaches(Some("hwk"), "mfa", &levels));
        assert!(!reaches(Some("pwd"), "mfa", &levels) && !reaches(None, "mfa", &levels));
        assert!(!reaches(Some("other"), "pwd", &levels), "a class outside the order reaches nothing");
        assert!(!reaches(Some("hwk"), "unknown", &levels), "an unordered requirement is met by nothing");
        assert_eq!(stronger_or_equal("mfa", &levels), ["mfa", "hwk"]);
    }
}

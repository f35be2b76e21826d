//! What a route asks beyond scopes of how its token was obtained and is presented ([`Assurance`]): a DPoP
//! mode of its own ([`DpopMode`], RFC 9449), an authentication context class (`acr`) and a most recent
//! authentication (`max_age` against `auth_time`), as RFC 9470's step-up asks. Declared in `#[requires]`,
//! checked by the guards, stated by the route report and the OpenAPI document.

use std::fmt;
use std::str::FromStr;

/// Whether requests may, or must, present DPoP-bound tokens (`Authorization: DPoP <token>` with a `DPoP`
/// proof header).
///
/// ```
/// use scopes_runtime::verifying::dpop::DpopMode;
/// assert_eq!("required".parse::<DpopMode>().unwrap(), DpopMode::Required);
/// assert_eq!(DpopMode::default(), DpopMode::Off);
/// assert!("sometimes".parse::<DpopMode>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum DpopMode {
    /// Only bearer tokens: the `DPoP` scheme is not accepted, and a DPoP-bound token is refused.
    #[default]
    Off,
    /// Bearer tokens, and DPoP-bound tokens with their proofs.
    Allowed,
    /// Only DPoP-bound tokens with their proofs.
    Required,
}

impl DpopMode {
    /// The mode's name, as [`FromStr`] reads it.
    pub const fn as_str(self) -> &'static str {
        match self {
            DpopMode::Off => "off",
            DpopMode::Allowed => "allowed",
            DpopMode::Required => "required",
        }
    }
}

impl fmt::Display for DpopMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DpopMode {
    type Err = String;

    fn from_str(mode: &str) -> Result<Self, Self::Err> {
        match mode {
            "off" => Ok(DpopMode::Off),
            "allowed" => Ok(DpopMode::Allowed),
            "required" => Ok(DpopMode::Required),
            other => Err(format!("`{other}` is not a DPoP mode: expected off, allowed or required")),
        }
    }
}

/// What a route asks of its token beyond scopes, as `#[requires]` declares it:
/// `#[requires(scopes = ["transfer"], dpop = "required", acr = ["urn:example:mfa"], max_age = 300)]`.
///
/// ```
/// use scopes_runtime::registry::{Assurance, DpopMode};
/// let assurance = Assurance::__new(Some(DpopMode::Required), &["urn:example:mfa"], None, Some(300));
/// assert_eq!(assurance.to_string(), "DPoP required, acr `urn:example:mfa`, authenticated within 300 s");
/// assert!(Assurance::NONE.is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Assurance {
    /// The route's DPoP mode, in place of the authority's; `None`: the authority's.
    pub dpop: Option<DpopMode>,
    /// The authentication context classes a token's `acr` must be one of; empty: any.
    pub acr: &'static [&'static str],
    /// The least authentication context class, in the order the authority declares
    /// ([`Authority::with_acr_levels`](crate::Authority::with_acr_levels)), the token's `acr` must reach.
    pub min_acr: Option<&'static str>,
    /// At most how many seconds before the request the user must have authenticated (`auth_time`).
    pub max_age: Option<u64>,
}

impl Assurance {
    /// Nothing beyond the scopes: the authority's DPoP mode, any `acr`, any `auth_time`.
    pub const NONE: Assurance = Assurance { dpop: None, acr: &[], min_acr: None, max_age: None };

    #[doc(hidden)]
    pub const fn __new(
        dpop: Option<DpopMode>,
        acr: &'static [&'static str],
        min_acr: Option<&'static str>,
        max_age: Option<u64>,
    ) -> Self {
        Assurance { dpop, acr, min_acr, max_age }
    }

    /// Whether it asks nothing.
    pub const fn is_none(&self) -> bool {
        self.dpop.is_none() && self.acr.is_empty() && self.min_acr.is_none() && self.max_age.is_none()
    }

    /// Whether it asks for a step up in authentication (`acr` or `max_age`), which RFC 9470's challenge
    /// answers.
    pub const fn asks_authentication(&self) -> bool {
        !self.acr.is_empty() || self.min_acr.is_some() || self.max_age.is_some()
    }
}

impl fmt::Display for Assurance {
    /// Its parts, comma-separated: `DPoP required, acr `a` or `b`, authenticated within 300 s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(dpop) = self.dpop {
            parts.push(format!("DPoP {dpop}"));
        }
        if !self.acr.is_empty() {
            let names: Vec<String> = self.acr.iter().map(|acr| format!("`{acr}`")).collect();
            parts.push(format!("acr {}", names.join(" or ")));
        }
        if let Some(min_acr) = self.min_acr {
            parts.push(format!("acr at least `{min_acr}`"));
        }
        if let Some(max_age) = self.max_age {
            parts.push(format!("authenticated within {max_age} s"));
        }
        f.write_str(&parts.join(", "))
    }
}

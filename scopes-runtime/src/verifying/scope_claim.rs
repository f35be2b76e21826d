//! Where a provider's token carries its scopes. Providers disagree: RFC 9068 and most OAuth servers write a
//! space-separated `scope` string, Entra ID an `scp` string, Okta an `scp` array, Auth0 a `permissions` array
//! (beside `scope`), Keycloak roles under `realm_access.roles`; FastAPI's tutorial a `scopes` list.

use serde_json::Value;

use super::error::TokenError;

/// The claim a token's scopes are read from. A claim that is absent grants no scope; one of the wrong type
/// makes the token invalid. Scopes the registry does not declare are simply never matched.
///
/// ```
/// use scopes_runtime::ScopeClaim;
/// use serde_json::json;
///
/// let keycloak = ScopeClaim::pointer("/realm_access/roles").unwrap();
/// let claims = json!({"realm_access": {"roles": ["me", "items"]}});
/// assert_eq!(keycloak.read(&claims).unwrap(), ["me", "items"]);
/// assert_eq!(ScopeClaim::Scope.read(&json!({"scope": "me  items"})).unwrap(), ["me", "items"]);
/// assert!(ScopeClaim::pointer("realm_access").is_err(), "a JSON pointer starts with `/`");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ScopeClaim {
    /// `scope`: a space-separated string (RFC 9068, RFC 8693 §4.2).
    #[default]
    Scope,
    /// `scp`: a space-separated string or an array of strings (Entra ID, Okta).
    Scp,
    /// `scopes`: an array of strings (FastAPI's tutorial).
    Scopes,
    /// `permissions`: an array of strings (Auth0's RBAC).
    Permissions,
    /// Any claim, by RFC 6901 JSON pointer: a string (space-separated) or an array of strings.
    Pointer(String),
}

impl ScopeClaim {
    /// The claim at `pointer` (RFC 6901), such as `/realm_access/roles`.
    pub fn pointer(pointer: impl Into<String>) -> Result<Self, String> {
        let pointer = pointer.into();
        if pointer.starts_with('/') {
            Ok(ScopeClaim::Pointer(pointer))
        } else {
            Err(format!("`{pointer}` is not a JSON pointer: it must start with `/`, as in `/realm_access/roles`"))
        }
    }

    /// The name of the top-level claim read, unless it is read by pointer.
    pub(crate) fn top_level_name(&self) -> Option<&'static str> {
        match self {
            ScopeClaim::Scope => Some("scope"),
            ScopeClaim::Scp => Some("scp"),
            ScopeClaim::Scopes => Some("scopes"),
            ScopeClaim::Permissions => Some("permissions"),
            ScopeClaim::Pointer(_) => None,
        }
    }

    /// The scopes `claims` grant, read from this claim.
    pub fn read(&self, claims: &Value) -> Result<Vec<String>, TokenError> {
        let (value, name) = match self {
            ScopeClaim::Scope => (claims.get("scope"), "scope"),
            ScopeClaim::Scp => (claims.get("scp"), "scp"),
            ScopeClaim::Scopes => (claims.get("scopes"), "scopes"),
            ScopeClaim::Permissions => (claims.get("permissions"), "permissions"),
            ScopeClaim::Pointer(pointer) => (claims.pointer(pointer), pointer.as_str()),
        };
        let wrong_type = || TokenError::InvalidClaims(format!("`{name}` is neither a string nor an array of strings"));
        match value {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::String(spaced)) if *self != ScopeClaim::Scopes && *self != ScopeClaim::Permissions => {
                Ok(spaced.split(' ').filter(|scope| !scope.is_empty()).map(str::to_owned).collect())
            }
            Some(Value::Array(items)) if *self != ScopeClaim::Scope => {
                items.iter().map(|item| item.as_str().map(str::to_owned).ok_or_else(wrong_type)).collect()
            }
            Some(_) => Err(wrong_type()),
        }
    }
}

/// `scope`, `scp`, `scopes`, `permissions`, or a JSON pointer (`/realm_access/roles`): how a command line
/// or a configuration file names the claim.
///
/// ```
/// use scopes_runtime::ScopeClaim;
/// assert_eq!("scp".parse::<ScopeClaim>().unwrap(), ScopeClaim::Scp);
/// assert_eq!("/realm_access/roles".parse::<ScopeClaim>().unwrap(), ScopeClaim::pointer("/realm_access/roles").unwrap());
/// assert!("roles".parse::<ScopeClaim>().is_err());
/// ```
impl std::str::FromStr for ScopeClaim {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, String> {
        match name {
            "scope" => Ok(ScopeClaim::Scope),
            "scp" => Ok(ScopeClaim::Scp),
            "scopes" => Ok(ScopeClaim::Scopes),
            "permissions" => Ok(ScopeClaim::Permissions),
            pointer if pointer.starts_with('/') => ScopeClaim::pointer(pointer),
            other => Err(format!(
                "`{other}` is not a scope claim: use scope, scp, scopes, permissions, or a JSON pointer such as /realm_access/roles"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_provider_shape_is_read() {
        let claims = json!({
            "scope": "me items",
            "scp": ["me"],
            "scopes": ["items"],
            "permissions": ["read:items"],
            "realm_access": {"roles": "admin me"},
        });
        assert_eq!(ScopeClaim::Scope.read(&claims).unwrap(), ["me", "items"]);
        assert_eq!(ScopeClaim::Scp.read(&claims).unwrap(), ["me"]);
        assert_eq!(ScopeClaim::Scp.read(&json!({"scp": "a b"})).unwrap(), ["a", "b"]);
        assert_eq!(ScopeClaim::Scopes.read(&claims).unwrap(), ["items"]);
        assert_eq!(ScopeClaim::Permissions.read(&claims).unwrap(), ["read:items"]);
        assert_eq!(ScopeClaim::pointer("/realm_access/roles").unwrap().read(&claims).unwrap(), ["admin", "me"]);
    }

    #[test]
    fn absent_claims_grant_nothing_and_wrong_types_are_invalid() {
        assert!(ScopeClaim::Scope.read(&json!({})).unwrap().is_empty());
        assert!(ScopeClaim::pointer("/a/b").unwrap().read(&json!({"a": {}})).unwrap().is_empty());
        for (claim, claims) in [
            (ScopeClaim::Scope, json!({"scope": ["me"]})),
            (ScopeClaim::Scope, json!({"scope": 7})),
            (ScopeClaim::Scopes, json!({"scopes": "me"})),
            (ScopeClaim::Permissions, json!({"permissions": [1]})),
            (ScopeClaim::Scp, json!({"scp": {"me": true}})),
        ] {
            assert!(matches!(claim.read(&claims), Err(TokenError::InvalidClaims(_))), "{claim:?} {claims}");
        }
    }
}

//! The application's declared scopes, as data: what `registry!` produces and what the OpenAPI
//! security scheme is built from.

/// One declared scope and what it grants, in words a user reads in a consent dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The scope token, e.g. `me`.
    pub name: &'static str,
    /// What holding the scope allows.
    pub description: &'static str,
}

/// The security scheme and its scopes, declared once with [`registry!`](crate::registry).
///
/// `registry!` checks every name when it is declared and defines `SCOPE_REGISTRY` at the crate root;
/// `#[requires]` is checked against the same declaration at compile time.
///
/// ```
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = {
///         "me" => "Read information about the current user.",
///         "items" => "Read items.",
///     },
/// }
///
/// # fn main() {
/// assert_eq!(SCOPE_REGISTRY.scheme(), "OAuth2PasswordBearer");
/// assert_eq!(SCOPE_REGISTRY.description("items"), Some("Read items."));
/// # }
/// ```
#[derive(Debug)]
pub struct Registry {
    scheme: &'static str,
    token_url: &'static str,
    scopes: &'static [Scope],
}

impl Registry {
    #[doc(hidden)]
    pub const fn __new(scheme: &'static str, token_url: &'static str, scopes: &'static [Scope]) -> Self {
        Registry { scheme, token_url, scopes }
    }

    /// The security scheme's name, as OpenAPI documents refer to it.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// Where clients obtain tokens, relative to the API's base URL.
    pub fn token_url(&self) -> &'static str {
        self.token_url
    }

    /// Every declared scope, in declaration order.
    pub fn scopes(&self) -> &'static [Scope] {
        self.scopes
    }

    /// The description of `name`, or `None` when it is not declared.
    pub fn description(&self, name: &str) -> Option<&'static str> {
        self.scopes.iter().find(|scope| scope.name == name).map(|scope| scope.description)
    }
}

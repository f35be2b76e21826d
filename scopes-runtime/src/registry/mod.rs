//! The application's declared scopes, as data: what `registry!` produces and what the OpenAPI
//! security scheme, the checks and the token endpoint are built from; what a request must hold of them
//! ([`Requirement`]) and who may call a route ([`Access`]).

pub(crate) mod access;
pub(crate) mod assurance;
pub(crate) mod granted;
pub(crate) mod requirement;

pub use access::{Access, Refusal, RuleAccess};
pub use assurance::{Assurance, DpopMode};
pub use granted::Granted;
pub use requirement::{Alternatives, Requirement, alternatives_of};

/// A declared scope, by name, checked against the crate's [`registry!`](macro@crate::registry) at compile
/// time: `scope!("admin")` is the [`Scope`], with its place in the hierarchy; a name the registry does not
/// declare is a compile error on the string, with a "did you mean" for a near miss, as in `#[requires]`.
/// For a check in code, in a handler or a guard: [`Scope::is_held_by`] follows the hierarchy.
///
/// ```
/// use scopes_runtime::{Claims, Scope};
/// use scopes_runtime::registry::scope;
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2",
///     token_url = "token",
///     scopes = {
///         "items" => "Read items.",
///         "admin" => "Administer everything." implies ["items"],
///     },
/// }
///
/// const ADMIN: Scope = scope!("admin");
///
/// # fn main() {
/// let claims = Claims::new("johndoe", ["admin"], 4_000_000_000);
/// assert!(ADMIN.is_held_by(&claims.scopes));
/// assert!(scope!("items").is_held_by(&claims.scopes), "admin implies items");
/// assert_eq!(scope!("items").description, "Read items.");
/// # }
/// ```
///
/// A misspelt scope does not compile:
///
/// ```compile_fail
/// scopes_runtime::registry! { scheme = "OAuth2", token_url = "token", scopes = { "admin" => "Administer." } }
/// # fn main() {
/// let _ = scopes_runtime::registry::scope!("admni");
/// # }
/// ```
#[doc(inline)]
pub use crate::__scope as scope;

/// See [`scope!`](crate::registry::scope).
#[doc(hidden)]
#[macro_export]
// `crate` is meant: the registry is the calling crate's, found at its root as `#[requires]` finds it.
#[allow(clippy::crate_in_macro_def)]
macro_rules! __scope {
    // `tt`, not `literal`: a forwarded `literal` is opaque, and would match none of the registry's names.
    ($scope:tt) => {
        <crate::__scopes_registry!($scope) as $crate::__private::DeclaredScope>::SCOPE
    };
}

/// One declared scope: what it grants, in words a user reads in a consent dialog, and where it sits in the
/// registry's hierarchy.
///
/// `registry!` computes `implies` and `implied_by` at compile time (transitively, cycles refused), so a
/// check never walks the hierarchy.
///
/// ```
/// use scopes_runtime::Scope;
///
/// const READ: Scope = Scope::new("items:read");
/// assert!(READ.is_held_by(&["items:read"]));
/// assert!(!READ.is_held_by(&["items"]));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scope {
    /// The scope token, e.g. `me`.
    pub name: &'static str,
    /// What holding the scope allows.
    pub description: &'static str,
    /// Every scope a holder of this one also holds, transitively, in declaration order.
    pub implies: &'static [&'static str],
    /// Every scope whose holder also holds this one, transitively, in declaration order.
    pub implied_by: &'static [&'static str],
}

impl Scope {
    /// A scope with no description and no place in a hierarchy.
    pub const fn new(name: &'static str) -> Scope {
        Scope { name, description: "", implies: &[], implied_by: &[] }
    }

    /// Whether a token granted `granted` holds this scope: it names it, or a scope that implies it.
    /// Matching is exact and case-sensitive.
    pub fn is_held_by<T: AsRef<str>>(&self, granted: &[T]) -> bool {
        granted.iter().any(|g| {
            let g = g.as_ref();
            g == self.name || self.implied_by.contains(&g)
        })
    }
}

/// The security scheme and its scopes, declared once with [`registry!`](macro@crate::registry).
///
/// `registry!` checks every name and implication when it is declared and defines `SCOPE_REGISTRY` at
/// the crate root; `#[requires]` is checked against the same declaration at compile time.
///
/// ```
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = {
///         "me" => "Read information about the current user.",
///         "items" => "Read items.",
///         "admin" => "Administer everything." implies ["me", "items"],
///     },
/// }
///
/// # fn main() {
/// assert_eq!(SCOPE_REGISTRY.scheme(), "OAuth2PasswordBearer");
/// assert_eq!(SCOPE_REGISTRY.description("items"), Some("Read items."));
/// assert_eq!(SCOPE_REGISTRY.scope("admin").unwrap().implies, ["me", "items"]);
/// assert_eq!(SCOPE_REGISTRY.held_by(&["admin"]), ["me", "items", "admin"]);
/// # }
/// ```
///
/// A registry without `token_url` (a crate that only verifies tokens issued elsewhere) is a plain
/// `Registry`; with one, `SCOPE_REGISTRY` is an [`IssuingRegistry`], which dereferences to it.
#[derive(Debug)]
pub struct Registry {
    scheme: &'static str,
    token_url: Option<&'static str>,
    scopes: &'static [Scope],
}

impl Registry {
    #[doc(hidden)]
    pub const fn __new(scheme: &'static str, token_url: Option<&'static str>, scopes: &'static [Scope]) -> Self {
        Registry { scheme, token_url, scopes }
    }

    /// The security scheme's name, as OpenAPI documents refer to it.
    pub fn scheme(&self) -> &'static str {
        self.scheme
    }

    /// Where the app's own token endpoint is served, relative to the API's base URL; `None` when the
    /// registry declares no `token_url` (tokens come from elsewhere).
    pub fn token_url(&self) -> Option<&'static str> {
        self.token_url
    }

    /// Every declared scope, in declaration order.
    pub fn scopes(&self) -> &'static [Scope] {
        self.scopes
    }

    /// The declared scope `name`, or `None` when it is not declared.
    pub fn scope(&self, name: &str) -> Option<&'static Scope> {
        self.scopes.iter().find(|scope| scope.name == name)
    }

    /// The description of `name`, or `None` when it is not declared.
    pub fn description(&self, name: &str) -> Option<&'static str> {
        self.scope(name).map(|scope| scope.description)
    }

    /// Every declared scope a holder of `granted` holds (those named and those they imply), in
    /// declaration order.
    pub fn held_by<T: AsRef<str>>(&self, granted: &[T]) -> Vec<&'static str> {
        self.scopes.iter().filter(|scope| scope.is_held_by(granted)).map(|scope| scope.name).collect()
    }
}

/// A [`Registry`] that says where the app's own token endpoint is served (`registry!`'s `token_url`): what
/// issuing tokens needs ([`TokenEndpoint`](crate::TokenEndpoint), an issuer's metadata). It dereferences to
/// the `Registry`, so it goes wherever one does.
///
/// ```
/// scopes_runtime::registry! {
///     scheme = "OAuth2PasswordBearer",
///     token_url = "token",
///     scopes = { "me" => "Read information about the current user." },
/// }
/// # fn main() {
/// use scopes_runtime::registry::{IssuingRegistry, TokenUrl};
/// let registry: &'static IssuingRegistry = &SCOPE_REGISTRY;
/// assert_eq!(registry.issuing_token_url(), "token");
/// assert_eq!(registry.token_url(), Some("token"));
/// # }
/// ```
#[derive(Debug)]
pub struct IssuingRegistry {
    registry: Registry,
    token_url: &'static str,
}

impl IssuingRegistry {
    #[doc(hidden)]
    pub const fn __new(scheme: &'static str, token_url: &'static str, scopes: &'static [Scope]) -> Self {
        IssuingRegistry { registry: Registry::__new(scheme, Some(token_url), scopes), token_url }
    }
}

impl std::ops::Deref for IssuingRegistry {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        &self.registry
    }
}

/// A registry that declares `token_url`: what issuing tokens needs. Implemented by [`IssuingRegistry`]
/// alone (sealed), which `registry!` declares when it is given a `token_url`; without one, code that
/// issues tokens is a compile error saying to add it.
#[diagnostic::on_unimplemented(
    message = "this registry declares no `token_url`, and issuing tokens needs one",
    label = "a registry without `token_url`",
    note = "add `token_url = \"token\"` to `scopes_runtime::registry!`: the path of the route serving the token \
            endpoint, which the OpenAPI document's password flow points at; only a crate that verifies tokens \
            issued elsewhere leaves it out"
)]
pub trait TokenUrl: sealed::Sealed + Sync + 'static {
    /// The registry itself.
    fn registry(&'static self) -> &'static Registry;
    /// Where the app's own token endpoint is served, relative to the API's base URL.
    fn issuing_token_url(&self) -> &'static str;
}

impl TokenUrl for IssuingRegistry {
    fn registry(&'static self) -> &'static Registry {
        &self.registry
    }

    fn issuing_token_url(&self) -> &'static str {
        self.token_url
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for super::IssuingRegistry {}
}

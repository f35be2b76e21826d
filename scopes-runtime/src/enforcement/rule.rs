//! Resource rules: authorization that depends on the resource a request names ("only the owner may delete
//! it, or an `admin`"), declared on the handler beside its scopes and enforced before it runs.
//!
//! A [`Rule`] loads the resource the request's path names and says whether the principal may act on it;
//! `#[requires(scopes = ["items:write"], any(rule(ItemOwner), "admin"))]` names it, and the handler receives
//! the loaded resource as [`Checked<T>`] (or, for a list, what the caller may see as [`Visible<T>`]), values
//! only a passed rule produces.
//!
//! The order of checks: the token, the principal and every scope first (a token without the scope costs no
//! load, and is answered the same whether the resource exists or not); then the resource is loaded, once;
//! then the rule decides, unless a scope alternative without the rule was met (`admin` above), which grants
//! without asking the rule. A missing resource is 404 even then: `admin` may act on any item, not on one that
//! does not exist.

use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::answering::error::AuthError;
pub use crate::registry::Refusal;

/// A rule about a resource, which `#[requires(...)]` names as `rule(Type)` beside its scopes.
///
/// The rule loads the resource the request's path names ([`load`](Rule::load)) and decides whether the
/// principal may act on it ([`permits`](Rule::permits)); the handler receives it as [`Checked<Resource>`],
/// so it neither loads it again nor ever sees one the rule did not pass.
///
/// ```
/// use scopes_runtime::enforcement::{Checked, Rule};
/// use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
/// use axum::extract::FromRef;
///
/// scopes_runtime::registry! {
///     scheme = "OAuth2",
///     token_url = "token",
///     scopes = {
///         "todos" => "Read and change your todos.",
///         "admin" => "Administer every todo." implies ["todos"],
///     },
/// }
///
/// #[derive(Clone, FromRef)]
/// struct AppState { authority: Authority }
/// struct User { name: String }
/// # impl Principal<AppState> for User {
/// #     async fn from_claims(claims: &Claims, _: &AppState) -> Result<Self, AuthError> {
/// #         Ok(User { name: claims.sub.clone() })
/// #     }
/// # }
/// struct Todo { id: u32, owner: String }
///
/// /// Only the todo's owner.
/// struct TodoOwner;
///
/// impl Rule<AppState> for TodoOwner {
///     const NAME: &'static str = "owner";
///     const DESCRIPTION: &'static str = "The caller owns the todo.";
///     const NOT_FOUND: &'static str = "Todo not found";
///     const PATH_PARAMS: &'static [&'static str] = &["id"];
///     type Principal = User;
///     type Params = u32;
///     type Resource = Todo;
///
///     async fn load(id: u32, _state: &AppState) -> Result<Option<Todo>, AuthError> {
///         Ok((id == 1).then(|| Todo { id, owner: "johndoe".into() })) // from the app's store
///     }
///
///     fn permits(user: &User, todo: &Todo) -> bool {
///         todo.owner == user.name
///     }
/// }
///
/// /// The owner, or whoever holds `admin`, may delete a todo.
/// #[requires(scopes = ["todos"], any(rule(TodoOwner), "admin"))]
/// async fn delete_todo(_user: User, todo: Checked<Todo>) -> String {
///     format!("deleted todo {}", todo.id)
/// }
/// # fn main() {
/// # let _ = scopes_runtime::routing::SecureRouter::<AppState>::new()
/// #     .route("/todos/{id}", scopes_runtime::routing::delete(delete_todo));
/// # }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a rule for state `{S}`",
    label = "named in `rule(...)`, but no `Rule<{S}>` impl",
    note = "implement `scopes_runtime::enforcement::Rule<{S}>` for `{Self}`: how it loads the resource and whom it permits"
)]
pub trait Rule<S>: Send + Sync + 'static {
    /// What the route report and the OpenAPI document call the rule: `items:write AND (owner OR admin)`.
    const NAME: &'static str;
    /// What the rule asks, for the OpenAPI document.
    const DESCRIPTION: &'static str;
    /// How a refusal is answered: 404 by default, as a missing resource.
    const REFUSAL: Refusal = Refusal::NotFound;
    /// The `detail` of the 404 a missing resource (and, by default, a refusal) is answered with.
    const NOT_FOUND: &'static str = "Not Found";
    /// The path parameters [`Params`](Rule::Params) is read from: a route that lacks one is refused when the
    /// router is built ([`SecureRouter::into_parts`](crate::routing::SecureRouter::into_parts)).
    const PATH_PARAMS: &'static [&'static str] = &[];

    /// The principal the rule judges: the handler's first parameter.
    type Principal: Send + Sync;
    /// The request's path parameters, as axum's [`Path`] reads them (`u32`, `String`, a tuple, a struct).
    /// Parameters that do not parse name no resource: answered 404, as a missing one.
    type Params: DeserializeOwned + Send;
    /// What the rule loads and the handler receives as [`Checked<Resource>`].
    type Resource: Send + Sync + 'static;

    /// The resource `params` names, or `None` when there is none (404). Called once per request, after
    /// the token and the scopes were accepted. An error (a store that cannot answer) is answered as it
    /// says, e.g. [`AuthError::ServiceUnavailable`].
    fn load(params: Self::Params, state: &S) -> impl Future<Output = Result<Option<Self::Resource>, AuthError>> + Send;

    /// Whether `principal` may act on `resource`. Not asked when a scope alternative without the rule
    /// (`admin` in `any(rule(ItemOwner), "admin")`) was met.
    fn permits(principal: &Self::Principal, resource: &Self::Resource) -> bool;
}

/// A rule that also says which resources a principal may see, for a list endpoint: the handler takes
/// [`Visible<Resource>`] and receives them, rather than filtering with an `if` of its own.
///
/// ```
/// use scopes_runtime::enforcement::{ListRule, Listing, Rule};
/// use scopes_runtime::AuthError;
/// # #[derive(Clone)] struct AppState { todos: Vec<(u32, String)> }
/// # struct User { name: String }
/// # struct Todo { id: u32, owner: String }
/// # struct TodoOwner;
/// # impl Rule<AppState> for TodoOwner {
/// #     const NAME: &'static str = "owner";
/// #     const DESCRIPTION: &'static str = "The caller owns the todo.";
/// #     type Principal = User;
/// #     type Params = u32;
/// #     type Resource = Todo;
/// #     async fn load(_: u32, _: &AppState) -> Result<Option<Todo>, AuthError> { Ok(None) }
/// #     fn permits(user: &User, todo: &Todo) -> bool { todo.owner == user.name }
/// # }
///
/// impl ListRule<AppState> for TodoOwner {
///     async fn list(listing: Listing<'_, User>, state: &AppState) -> Result<Vec<Todo>, AuthError> {
///         let all = state.todos.iter().map(|(id, owner)| Todo { id: *id, owner: owner.clone() });
///         Ok(match listing {
///             Listing::All => all.collect(),
///             Listing::PermittedTo(user) => all.filter(|todo| todo.owner == user.name).collect(),
///         })
///     }
/// }
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not list resources for state `{S}`",
    label = "a handler taking `Visible<...>` needs a rule that lists",
    note = "implement `scopes_runtime::enforcement::ListRule<{S}>` for `{Self}`: what a principal may see"
)]
pub trait ListRule<S>: Rule<S> {
    /// The resources `listing` may see: every one for [`Listing::All`], those the rule permits to the
    /// principal otherwise.
    fn list(
        listing: Listing<'_, Self::Principal>,
        state: &S,
    ) -> impl Future<Output = Result<Vec<Self::Resource>, AuthError>> + Send;
}

/// Whom a list is for.
#[derive(Debug)]
pub enum Listing<'a, P> {
    /// A scope alternative without the rule was met (`admin`): every resource.
    All,
    /// Only what the rule permits to this principal.
    PermittedTo(&'a P),
}

/// How a request was let through to a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantedBy {
    /// The rule permitted the principal.
    Rule,
    /// A scope alternative without the rule was met (`admin`), so the rule was not asked.
    Scope,
}

/// The resource a [`Rule`] loaded and let the request act on, handed to the handler (see [`Rule`] for a
/// handler taking one, and [`testing::checked`](crate::testing::checked) for a unit test calling it): `#[requires]` with
/// `rule(...)` produces it, and nothing else can (the test kit's [`testing::checked`](crate::testing::checked)
/// aside), so a handler taking it never receives one unchecked. Dereferences to the resource.
pub struct Checked<T> {
    resource: T,
    granted_by: GrantedBy,
}

impl<T> Checked<T> {
    pub(crate) fn new(resource: T, granted_by: GrantedBy) -> Self {
        Checked { resource, granted_by }
    }

    /// The resource.
    pub fn into_inner(self) -> T {
        self.resource
    }

    /// Whether the rule permitted the request, or a scope alternative did without asking it.
    pub fn granted_by(&self) -> GrantedBy {
        self.granted_by
    }
}

impl<T> Deref for Checked<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.resource
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Checked<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checked").field("resource", &self.resource).field("granted_by", &self.granted_by).finish()
    }
}

/// What a [`ListRule`] lets the caller see, handed to a list handler (`items: Visible<Item>` beside the
/// principal, under `#[requires(..., rule(ItemOwner))]`). Dereferences to the resources.
#[derive(Debug)]
pub struct Visible<T> {
    resources: Vec<T>,
    granted_by: GrantedBy,
}

impl<T> Visible<T> {
    pub(crate) fn new(resources: Vec<T>, granted_by: GrantedBy) -> Self {
        Visible { resources, granted_by }
    }

    /// The resources.
    pub fn into_inner(self) -> Vec<T> {
        self.resources
    }

    /// [`GrantedBy::Scope`] when every resource was listed because a scope alternative was met.
    pub fn granted_by(&self) -> GrantedBy {
        self.granted_by
    }
}

impl<T> Deref for Visible<T> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        &self.resources
    }
}

/// Where the handler's rule leaves its result for the handler's `Checked` or `Visible` parameter: a
/// private type, so only the rule's enforcement can put one there. Request extensions must be `Clone` and
/// `Sync`, which a resource need not be: it is held behind a shared slot and taken out once.
struct Handed<T>(Arc<Mutex<Option<T>>>);

// By hand: a derive would ask `T: Clone`, and only the `Arc` is cloned.
impl<T> Clone for Handed<T> {
    fn clone(&self) -> Self {
        Handed(Arc::clone(&self.0))
    }
}

impl<T: Send + 'static> Handed<T> {
    fn leave(parts: &mut Parts, value: T) {
        parts.extensions.insert(Handed(Arc::new(Mutex::new(Some(value)))));
    }
}

impl<S: Send + Sync, T: Send + 'static> FromRequestParts<S> for Checked<T> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AuthError> {
        take(parts)
    }
}

impl<S: Send + Sync, T: Send + 'static> FromRequestParts<S> for Visible<T> {
    type Rejection = AuthError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, AuthError> {
        take(parts)
    }
}

fn take<T: Send + 'static>(parts: &mut Parts) -> Result<T, AuthError> {
    let taken = parts.extensions.remove::<Handed<T>>().and_then(|Handed(slot)| match slot.lock() {
        Ok(mut slot) => slot.take(),
        Err(poisoned) => poisoned.into_inner().take(),
    });
    match taken {
        Some(value) => Ok(value),
        // `#[requires]` refuses a `Checked` parameter without a rule at compile time; reaching here means
        // the type was renamed past that check. Never let the handler run without its check.
        None => Err(AuthError::Internal(format!(
            "the handler takes `{}`, but no `rule(...)` in its `#[requires]` produces it",
            std::any::type_name::<T>()
        ))),
    }
}

/// What a ruled handler takes from its rule: one resource, from the path ([`One`]), or a list ([`Many`]),
/// of the type its parameter names. Generated code names it; not API.
#[diagnostic::on_unimplemented(
    message = "the rule `{R}` does not hand this handler what it takes",
    label = "not what `{R}` loads",
    note = "a rule hands over `Checked<R::Resource>` (one, from the path) or `Visible<R::Resource>` (a list, from \
            a `ListRule`): take the type the rule loads, or name the rule that loads this one"
)]
pub trait RuleMode<S, R: Rule<S>>: Send {
    /// Whether the rule reads the path (one resource), so the route must have its parameters.
    const READS_PATH: bool;

    /// Loads, checks and hands over the handler's resource(s). `by_scope`: a scope alternative without the
    /// rule was met.
    fn resolve(
        parts: &mut Parts,
        state: &S,
        principal: &R::Principal,
        by_scope: bool,
    ) -> impl Future<Output = Result<(), RuleError>> + Send;
}

/// Why a rule's enforcement handed the handler nothing: the rule refused, or something else failed (the
/// resource is missing, loading it failed). Generated code names it; not API.
#[derive(Debug)]
pub enum RuleError {
    /// The rule said no: answered as the rule declares.
    Refused(AuthError),
    /// The resource is missing, or loading it failed.
    Failed(AuthError),
}

impl From<AuthError> for RuleError {
    fn from(error: AuthError) -> Self {
        RuleError::Failed(error)
    }
}

/// A handler taking [`Checked<T>`]: one resource, named by the path.
pub struct One<T>(PhantomData<T>);

/// A handler taking [`Visible<T>`]: what the principal may see.
pub struct Many<T>(PhantomData<T>);

impl<S: Send + Sync, T: Send + 'static, R: Rule<S, Resource = T>> RuleMode<S, R> for One<T> {
    const READS_PATH: bool = true;

    async fn resolve(parts: &mut Parts, state: &S, principal: &R::Principal, by_scope: bool) -> Result<(), RuleError> {
        let not_found = || AuthError::NotFound { detail: R::NOT_FOUND };
        let Ok(Path(params)) = Path::<R::Params>::from_request_parts(parts, state).await else {
            return Err(not_found().into());
        };
        let resource = R::load(params, state).await?.ok_or_else(not_found)?;
        let granted_by = if by_scope {
            GrantedBy::Scope
        } else if R::permits(principal, &resource) {
            GrantedBy::Rule
        } else {
            return Err(RuleError::Refused(refusal::<S, R>()));
        };
        Handed::leave(parts, Checked::new(resource, granted_by));
        Ok(())
    }
}

impl<S: Send + Sync, T: Send + 'static, R: ListRule<S, Resource = T>> RuleMode<S, R> for Many<T> {
    const READS_PATH: bool = false;

    async fn resolve(parts: &mut Parts, state: &S, principal: &R::Principal, by_scope: bool) -> Result<(), RuleError> {
        let (listing, granted_by) = if by_scope {
            (Listing::All, GrantedBy::Scope)
        } else {
            (Listing::PermittedTo(principal), GrantedBy::Rule)
        };
        let resources = R::list(listing, state).await?;
        Handed::leave(parts, Visible::new(resources, granted_by));
        Ok(())
    }
}

/// The refusal `R` declares.
fn refusal<S, R: Rule<S>>() -> AuthError {
    match R::REFUSAL {
        Refusal::NotFound => AuthError::NotFound { detail: R::NOT_FOUND },
        Refusal::Forbidden => AuthError::RuleRefused { rule: R::NAME },
    }
}

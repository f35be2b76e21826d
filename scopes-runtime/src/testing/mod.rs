//! Testing an app built on scopes (the `testing` feature): tokens for its registry, guarded handlers'
//! bodies called with a principal, refusals asserted in one line, and a [`FakeProvider`] for an app that
//! verifies an identity provider's tokens.
//!
//! Enable it for tests only:
//!
//! ```toml
//! [dev-dependencies]
//! scopes-runtime = { version = "0.1", features = ["testing"] }
//! ```
//!
//! ```
//! use axum::extract::FromRef;
//! use scopes_runtime::testing::{Minter, authorized, scopes};
//! use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
//!
//! scopes_runtime::registry! {
//!     scheme = "OAuth2",
//!     token_url = "token",
//!     scopes = { "me" => "Read information about the current user.", "items" => "Read items." },
//! }
//!
//! #[derive(Clone, FromRef)]
//! struct AppState { authority: Authority }
//! struct User { name: String }
//! impl Principal<AppState> for User {
//!     async fn from_claims(claims: &Claims, _: &AppState) -> Result<Self, AuthError> {
//!         Ok(User { name: claims.sub.clone() })
//!     }
//! }
//!
//! #[requires(scopes = ["items"])]
//! async fn read_own_items(user: User) -> String {
//!     format!("the items of {}", user.name)
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! // The body, with a principal and no token or request:
//! let body = read_own_items(authorized(User { name: "johndoe".into() })).await;
//! assert_eq!(body, "the items of johndoe");
//!
//! // Tokens for this registry (`scopes!["itmes"]` would not compile):
//! let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
//! let minter = Minter::new(&authority);
//! assert_eq!(authority.verify(&minter.token("johndoe", scopes!["me", "items"])).unwrap().scopes, ["me", "items"]);
//! assert!(authority.verify(&minter.expired("johndoe", scopes!["me"])).is_err());
//! # }
//! ```

mod dpop;
mod fake_provider;

pub use dpop::DpopKey;
pub use fake_provider::{FakeProvider, INTROSPECTION_CLIENT};

use std::marker::PhantomData;
use std::time::Duration;

use axum::http::{Response, StatusCode, header};

use crate::__private::{Authorized, AuthorizedRuled};
use crate::authority::Authority;
use crate::enforcement::{Checked, GrantedBy, Visible};
use crate::keys::clock::unix_now as now;
use crate::verifying::Claims;

/// The declared scopes named, as `[&'static str; N]`: `scopes!["me", "items"]`. A scope the crate's
/// `registry!` does not declare is a compile error on the string, as in `#[requires]`. In the crate that
/// declares the registry; from its integration tests (`tests/*.rs`) or another crate, name the crate that
/// declares it: `scopes![in my_app: "me", "items"]`.
#[doc(hidden)]
#[macro_export]
// `crate` is meant: the registry is the calling crate's, found at its root as `#[requires]` finds it.
#[allow(clippy::crate_in_macro_def)]
macro_rules! __testing_scopes {
    (in $app:ident : $($scope:tt),* $(,)?) => {
        [$(<$app::__scopes_registry_export!($scope) as $crate::__private::DeclaredScope>::SCOPE.name),*]
    };
    ($($scope:tt),* $(,)?) => {
        [$(<crate::__scopes_registry!($scope) as $crate::__private::DeclaredScope>::SCOPE.name),*]
    };
}

#[doc(inline)]
pub use crate::__testing_scopes as scopes;

/// What a `#[requires]` handler receives as its first parameter, made from `principal` without a token or
/// a request, to call the handler's body in a unit test. The handler's requirement is not checked: the
/// test says who is calling.
///
/// ```
/// # use scopes_runtime::{AuthError, Authority, Claims, Principal, requires, testing::authorized};
/// # scopes_runtime::registry! { scheme = "OAuth2", token_url = "token", scopes = { "me" => "Me." } }
/// # #[derive(Clone, axum::extract::FromRef)] struct AppState { authority: Authority }
/// # struct User;
/// # impl Principal<AppState> for User {
/// #     async fn from_claims(_: &Claims, _: &AppState) -> Result<Self, AuthError> { Ok(User) }
/// # }
/// #[requires(scopes = ["me"])]
/// async fn whoami(_user: User, greeting: String) -> String { greeting }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// assert_eq!(whoami(authorized(User), "hello".into()).await, "hello");
/// # }
/// ```
///
/// A handler with a resource rule takes its resource from [`checked`] (or [`visible`]) beside it.
pub fn authorized<T: FromPrincipal<P>, P>(principal: P) -> T {
    T::from_principal(principal)
}

/// What [`authorized`] makes: the first parameter of a `#[requires]` handler, with or without a rule.
/// Sealed: implemented by the extractors `#[requires]` generates.
pub trait FromPrincipal<P>: sealed::Sealed {
    #[doc(hidden)]
    fn from_principal(principal: P) -> Self;
}

mod sealed {
    pub trait Sealed {}
}

impl<P, R> sealed::Sealed for Authorized<P, R> {}
impl<P, R> FromPrincipal<P> for Authorized<P, R> {
    fn from_principal(principal: P) -> Self {
        Authorized(principal, PhantomData)
    }
}

impl<P, R> sealed::Sealed for AuthorizedRuled<P, R> {}
impl<P, R> FromPrincipal<P> for AuthorizedRuled<P, R> {
    fn from_principal(principal: P) -> Self {
        AuthorizedRuled(principal, PhantomData)
    }
}

/// What a ruled handler receives as its [`Checked`] resource, made without a rule, a store or a request, to
/// call the handler's body in a unit test: the test says the rule passed. To test the rule itself, call its
/// [`permits`](crate::enforcement::Rule::permits) with a principal and a resource.
///
/// ```
/// # use scopes_runtime::{AuthError, Authority, Claims, Principal, requires};
/// # use scopes_runtime::enforcement::{Checked, Rule};
/// use scopes_runtime::testing::{authorized, checked};
/// # scopes_runtime::registry! { scheme = "OAuth2", token_url = "token", scopes = { "todos" => "Todos." } }
/// # #[derive(Clone, axum::extract::FromRef)] struct AppState { authority: Authority }
/// # struct User { name: String }
/// # impl Principal<AppState> for User {
/// #     async fn from_claims(c: &Claims, _: &AppState) -> Result<Self, AuthError> { Ok(User { name: c.sub.clone() }) }
/// # }
/// # struct Todo { id: u32, owner: String }
/// # struct TodoOwner;
/// # impl Rule<AppState> for TodoOwner {
/// #     const NAME: &'static str = "owner";
/// #     const DESCRIPTION: &'static str = "The caller owns the todo.";
/// #     const PATH_PARAMS: &'static [&'static str] = &["id"];
/// #     type Principal = User;
/// #     type Params = u32;
/// #     type Resource = Todo;
/// #     async fn load(_: u32, _: &AppState) -> Result<Option<Todo>, AuthError> { Ok(None) }
/// #     fn permits(user: &User, todo: &Todo) -> bool { todo.owner == user.name }
/// # }
/// #[requires(scopes = ["todos"], rule(TodoOwner))]
/// async fn read_todo(_user: User, todo: Checked<Todo>) -> String {
///     format!("todo {}", todo.id)
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let ann = User { name: "ann".into() };
/// let todo = Todo { id: 7, owner: "ann".into() };
/// assert!(<TodoOwner as Rule<AppState>>::permits(&ann, &todo), "the rule alone");
/// assert_eq!(read_todo(authorized(ann), checked(todo)).await, "todo 7", "the handler's body");
/// # }
/// ```
pub fn checked<T>(resource: T) -> Checked<T> {
    Checked::new(resource, GrantedBy::Rule)
}

/// What a list handler receives as its [`Visible`] resources, made without a rule: see [`checked`].
pub fn visible<T>(resources: Vec<T>) -> Visible<T> {
    Visible::new(resources, GrantedBy::Rule)
}

/// Mints tokens with an authority that signs (a shared secret), in its claim format and with its `iss`
/// and `aud`: valid ones, and the invalid variants a test needs.
///
/// # Panics
/// Each method panics when the authority verifies a provider's tokens and signs none.
#[derive(Debug, Clone)]
pub struct Minter {
    authority: Authority,
}

/// How far outside their validity the expired and not-yet-valid tokens are: beyond any sensible leeway.
const OUTSIDE: Duration = Duration::from_secs(60 * 60);

impl Minter {
    /// Mints with `authority`.
    pub fn new(authority: &Authority) -> Self {
        Minter { authority: authority.clone() }
    }

    /// A valid token for `subject` granting `scopes`, for the authority's token lifetime.
    pub fn token<const N: usize>(&self, subject: &str, scopes: [&str; N]) -> String {
        self.sign(&Claims::new(subject, scopes, now() + self.authority.token_lifetime().as_secs()))
    }

    /// A token that expired an hour ago.
    pub fn expired<const N: usize>(&self, subject: &str, scopes: [&str; N]) -> String {
        self.sign(&Claims::new(subject, scopes, now().saturating_sub(OUTSIDE.as_secs())))
    }

    /// A token valid only from an hour from now (`nbf`).
    pub fn not_yet_valid<const N: usize>(&self, subject: &str, scopes: [&str; N]) -> String {
        let starts = now() + OUTSIDE.as_secs();
        self.sign(&Claims { nbf: Some(starts), ..Claims::new(subject, scopes, starts + OUTSIDE.as_secs()) })
    }

    /// A token of the right shape signed with a key the authority does not know.
    pub fn with_wrong_key<const N: usize>(&self, subject: &str, scopes: [&str; N]) -> String {
        let stranger = Authority::hs256(b"a secret no application under test knows!").expect("a long secret");
        let (format, issuer, audience) = self.authority.issued_claims();
        let mut stranger = stranger.with_claim_format(format);
        if let Some(issuer) = issuer {
            stranger = stranger.with_issuer(issuer);
        }
        if let Some(audience) = audience {
            stranger = stranger.with_audience(audience);
        }
        Minter { authority: stranger }.token(subject, scopes)
    }

    /// A valid token for `subject` granting `scopes`, saying the user authenticated `ago` before now with
    /// the authentication context class `acr` (`acr` and `auth_time`, RFC 9470): for a route that asks
    /// `acr` or `max_age`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use scopes_runtime::{Authority, testing::Minter};
    /// let authority = Authority::hs256(b"0123456789abcdef0123456789abcdef").unwrap();
    /// let token = Minter::new(&authority).authenticated("johndoe", ["me"], "urn:example:mfa", Duration::from_secs(30));
    /// let claims = authority.verify(&token).unwrap();
    /// assert_eq!(claims.extra["acr"], "urn:example:mfa");
    /// ```
    pub fn authenticated<const N: usize>(&self, subject: &str, scopes: [&str; N], acr: &str, ago: Duration) -> String {
        let mut claims = Claims::new(subject, scopes, now() + self.authority.token_lifetime().as_secs());
        claims.extra.insert("acr".into(), acr.into());
        claims.extra.insert("auth_time".into(), now().saturating_sub(ago.as_secs()).into());
        self.sign(&claims)
    }

    /// Any claims, signed: for shapes the other methods do not make.
    pub fn sign(&self, claims: &Claims) -> String {
        self.authority.sign(claims).unwrap_or_else(|error| panic!("the authority cannot mint tokens: {error}"))
    }
}

/// Asserts that `response` refuses with `status` and a `Bearer` challenge whose `scope` values are
/// exactly `scope_sets` (each set space-separated, in any order; none for a refusal that names no scope).
///
/// ```
/// use axum::http::StatusCode;
/// use scopes_runtime::{AuthError, answering::Challenge, ResponseStyle};
/// use scopes_runtime::testing::assert_refused;
///
/// let challenge = Challenge::from_alternatives(vec![vec!["items", "me"], vec!["admin"]]);
/// let refused = ResponseStyle::default().render(&AuthError::InsufficientScope { challenge });
/// assert_refused(&refused, StatusCode::FORBIDDEN, &["items me", "admin"]);
/// assert_refused(&ResponseStyle::Seed.render(&AuthError::MissingCredentials), StatusCode::UNAUTHORIZED, &[]);
/// ```
///
/// # Panics
/// When the status, the challenge, or its scopes differ, saying what the response had.
#[track_caller]
pub fn assert_refused<B>(response: &Response<B>, status: StatusCode, scope_sets: &[&str]) {
    let challenge = response.headers().get(header::WWW_AUTHENTICATE).and_then(|value| value.to_str().ok());
    assert_eq!(response.status(), status, "the refusal's status (challenge: {challenge:?})");
    let Some(challenge) = challenge else { panic!("a {status} refusal without a `WWW-Authenticate` challenge") };
    assert!(challenge.starts_with("Bearer"), "not a Bearer challenge: {challenge}");
    let mut found = challenge_scopes(challenge);
    let mut expected: Vec<String> = scope_sets.iter().map(|set| (*set).to_owned()).collect();
    found.sort_unstable();
    expected.sort_unstable();
    assert_eq!(found, expected, "the scope sets the challenge names ({challenge})");
}

/// The `scope` attribute of each challenge in a `WWW-Authenticate` value (RFC 7235 §2.1: auth-params of
/// token or quoted-string values, quoted pairs unescaped).
fn challenge_scopes(challenge: &str) -> Vec<String> {
    let mut scopes = Vec::new();
    let mut chars = challenge.chars().peekable();
    while chars.peek().is_some() {
        while chars.next_if(|c| matches!(c, ' ' | ',' | '\t')).is_some() {}
        let mut name = String::new();
        while let Some(c) = chars.next_if(|c| !matches!(c, ' ' | ',' | '=' | '\t')) {
            name.push(c);
        }
        if chars.next_if_eq(&'=').is_none() {
            continue; // an auth-scheme, such as `Bearer`
        }
        let mut value = String::new();
        if chars.next_if_eq(&'"').is_some() {
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
        } else {
            while let Some(c) = chars.next_if(|c| !matches!(c, ' ' | ',')) {
                value.push(c);
            }
        }
        if name.eq_ignore_ascii_case("scope") {
            scopes.push(value);
        }
    }
    scopes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_scope_attributes_are_read() {
        let challenge =
            r#"Bearer realm="api", error_description="needs scope=\"x\"", scope="items me", Bearer scope="admin""#;
        assert_eq!(challenge_scopes(challenge), ["items me", "admin"]);
        assert_eq!(challenge_scopes(r#"Bearer realm="api""#), Vec::<String>::new());
        assert_eq!(challenge_scopes("Bearer scope=me, Bearer"), ["me"]);
    }
}

//! What generated code implements and no app can: the seal on [`Authorize`](super::guard::Authorize)(super::guard::Authorize), and a
//! handler's requirement as a type (declared scopes, all of some, any of those), read back as constants.
//! Reached by generated code through `__private`; not API.

use std::marker::PhantomData;

use super::guard::Principal;
use crate::registry::{Alternatives, Assurance, Scope};

/// A declared scope, as the marker type `registry!` generates for it.
pub trait DeclaredScope {
    /// The scope, with its place in the hierarchy.
    const SCOPE: Scope;
}

/// What the registry's lookup of an undeclared scope leaves in the type once it has reported the error
/// (`compile_error!` in type position stands for `()`): implemented so the one error is not followed by
/// unrelated ones. The build has already failed; this scope never reaches a running program.
impl DeclaredScope for () {
    const SCOPE: Scope = Scope::new("");
}

/// What `#[requires]` declares of a handler beyond its scopes: its DPoP mode, `acr` and `max_age`
/// ([`Assurance::NONE`] when it declares none).
pub trait Assured {
    /// The handler's assurance.
    const ASSURANCE: Assurance;
}

/// All of a tuple of declared scopes.
pub struct AllOf<T>(PhantomData<T>);

/// Any of a tuple of [`AllOf`]s: a requirement in disjunctive normal form.
pub struct AnyOf<T>(PhantomData<T>);

/// What [`AllOf`] reads back: the scopes that must all be held.
pub trait Conjunction {
    /// The scopes, in the order written.
    const SCOPES: &'static [Scope];
}

/// What `#[requires]` puts in the type of a handler's extractor and a guard's `Authorize` impl.
pub trait Disjunction {
    /// The alternatives, each all of its scopes.
    const ALTERNATIVES: Alternatives;
}

/// `#[requires]` refuses requirements wider than this many alternatives, or scopes in one.
pub const MAX_TERMS: usize = 16;

macro_rules! tuple_impls {
    ($($name:ident)*) => {
        impl<$($name: DeclaredScope),*> Conjunction for AllOf<($($name,)*)> {
            const SCOPES: &'static [Scope] = &[$($name::SCOPE),*];
        }
        impl<$($name: Conjunction),*> Disjunction for AnyOf<($($name,)*)> {
            const ALTERNATIVES: Alternatives = &[$($name::SCOPES),*];
        }
    };
}

for_each_tuple!(tuple_impls; T15 T14 T13 T12 T11 T10 T9 T8 T7 T6 T5 T4 T3 T2 T1 T0);

/// Seals [`Authorize`](super::guard::Authorize): implemented for every [`Principal`], and by `#[requires]` for the
/// guards it declares. Naming it from outside generated code is outside the API: a hand-written
/// `Authorize` impl could hand a handler a principal no token vouches for.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot implement `Authorize` by hand: only a principal or a `#[requires]` guard authorizes a request",
    label = "neither a `Principal<{S}>` nor a guard declared with `#[requires]`",
    note = "implement `scopes_runtime::Principal<{S}>` for your user type, or declare a guard with \
            `#[requires(scopes = [...])] impl Guard<{S}> for ...`"
)]
pub trait SealedAuthorize<S> {}

impl<S, P: Principal<S>> SealedAuthorize<S> for P {}

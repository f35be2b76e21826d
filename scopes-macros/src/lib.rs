//! Procedural macros of the `scopes` framework. Depend on `scopes-runtime`, which re-exports them and
//! documents them with examples; this crate only wires parsing, checks and code generation together.
//!
//! Layout: `requires/` (the attribute: `attr` parses its expression, `ast` the annotated item, `valid`
//! checks both and brings the expression to normal form, `expand` generates code), `registry/` (the scope
//! declaration: `parse`, `check` with its hierarchy, `expand`), `public` (the mark of an unguarded
//! handler), `fallback` (what each macro leaves in place of an item it reported errors on), `check` (the
//! compile-time lookup of required scopes in the registry), `enclosing` (whether a handler sits in an impl
//! block); `attributes`, `scope_token`, `krate` and `ctxt` (the `Errors` context) are shared by all of them.

mod attributes;
mod check;
mod ctxt;
mod enclosing;
mod fallback;
mod krate;
mod public;
mod registry;
mod requires;
mod scope_token;

use proc_macro::TokenStream;

/// Requires a verified bearer token, and the listed scopes, before an axum handler runs.
///
/// Documented, with examples, where users meet it: `scopes_runtime::requires`.
#[proc_macro_attribute]
pub fn requires(args: TokenStream, item: TokenStream) -> TokenStream {
    requires::expand(args.into(), item.into()).into()
}

/// Marks an axum handler as served to anyone, as a secure-by-default router demands.
///
/// Documented, with examples, where users meet it: `scopes_runtime::public`.
#[proc_macro_attribute]
pub fn public(args: TokenStream, item: TokenStream) -> TokenStream {
    public::expand(args.into(), item.into()).into()
}

/// Declares the application's security scheme and scopes, once, at the crate root.
///
/// Documented, with examples, where users meet it: `scopes_runtime::registry`.
#[proc_macro]
pub fn registry(input: TokenStream) -> TokenStream {
    registry::expand(input.into()).into()
}

#[doc(hidden)]
#[proc_macro]
pub fn __check_scopes(input: TokenStream) -> TokenStream {
    check::expand(input.into()).into()
}

//! `registry!`: the one declaration of the security scheme and its scopes.
//!
//! It produces the runtime `SCOPE_REGISTRY` (what the OpenAPI security scheme is built from) and the
//! `__scopes_registry!` macro through which `#[requires]` checks its scopes at compile time. As
//! `#[requires]` does: [`parse`] the input, [`check`] it, [`expand`] it; with errors, the
//! [fallback](crate::fallback::registry).

mod check;
pub(crate) mod expand;
pub(crate) mod parse;

use proc_macro2::TokenStream;

pub fn expand(input: TokenStream) -> TokenStream {
    let declaration = match syn::parse2::<parse::Declaration>(input) {
        Ok(declaration) => declaration,
        Err(error) => return crate::fallback::registry(error.to_compile_error(), None),
    };
    match check::checked(&declaration) {
        Ok(checked) => expand::expand(&declaration, &checked),
        Err(errors) => crate::fallback::registry(errors.to_compile_errors(), Some(&declaration)),
    }
}

//! What a macro with errors expands to (thiserror's `fallback.rs`): the errors, and in place of the item
//! something the rest of the crate accepts, so that the user sees their mistakes and no cascade of
//! unrelated errors from the code that uses the item.

use proc_macro2::TokenStream;
use quote::quote;
use syn::LitStr;

use crate::registry::parse::Declaration;
use crate::requires::ast::HandlerFn;

/// What a registry with errors expands to: the errors, and a registry of what parsed whose lookup accepts
/// any scope, so the crate's `#[requires]` attributes add no errors of their own (thiserror's
/// `fallback.rs`): the user sees the registry's mistakes and nothing else.
pub fn registry(errors: TokenStream, declaration: Option<&Declaration>) -> TokenStream {
    let empty = LitStr::new("", proc_macro2::Span::call_site());
    let scheme = declaration.and_then(|d| d.scheme.as_ref()).unwrap_or(&empty);
    // Always an issuing registry, so that a token endpoint adds no error of its own.
    let token_url = declaration.and_then(|d| d.token_url.as_ref()).unwrap_or(&empty);
    let scopes = declaration.and_then(|d| d.scopes.as_deref()).unwrap_or_default();
    let (names, descriptions) = (scopes.iter().map(|s| &s.name), scopes.iter().map(|s| &s.description));
    let krate = crate::krate::tokens(declaration.and_then(|d| d.krate.as_ref()));
    // Generic over the state: a declared state is not checked against handlers while the registry has
    // errors of its own.
    let extractor_arm = crate::registry::expand::extractor_arm(&krate, None);
    let scopes =
        quote!(&[#(#krate::Scope { name: #names, description: #descriptions, implies: &[], implied_by: &[] }),*]);
    let registry = crate::registry::expand::registry_static(&krate, scheme, Some(token_url), &scopes);
    quote! {
        #errors

        #registry

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __scopes_registry {
            #extractor_arm
            ($other:literal) => { () };
        }

        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use __scopes_registry;

        #[doc(hidden)]
        #[macro_export]
        macro_rules! __scopes_registry_export {
            ($other:literal) => { () };
        }
    }
}

/// What `#[requires]` leaves of an item it cannot guard: the errors, and for an `async fn` an inert handler
/// of the same name that every router accepts (the handler as written stays beside it, unrouted under
/// another name, so its body is still checked and its imports still used); any other item as written.
pub fn requires_target(errors: TokenStream, item: TokenStream, krate: &TokenStream) -> TokenStream {
    match syn::parse2::<HandlerFn>(item.clone()) {
        Ok(mut handler) if handler.sig.asyncness.is_some() => {
            let (vis, name) = (handler.vis.clone(), handler.sig.ident.clone());
            handler.sig.ident = quote::format_ident!("__scopes_unusable_{}", name);
            let HandlerFn { sig, body, .. } = handler;
            quote! {
                #errors
                #vis async fn #name(_: #krate::__private::Unusable) -> #krate::__private::Unusable {
                    #krate::__private::Unusable
                }
                #[allow(dead_code, non_snake_case, clippy::all)]
                #sig #body
            }
        }
        _ => quote! { #errors #item },
    }
}

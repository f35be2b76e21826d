//! `#[public]`: marks a handler as served to anyone, which a secure-by-default router demands of every
//! handler that is not `#[requires(...)]`. It adds a first parameter of the marker type `Public`, which
//! is how the router sees the mark in the handler's type.

use proc_macro2::TokenStream;
use quote::quote;

use crate::requires::ast::{HandlerFn, check_handler, item_keyword};

const WHERE_IT_GOES: &str = "`#[public]` goes on an `async fn` handler";

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = TokenStream::new();
    // Only `crate = path`, for a renamed runtime: a public handler requires nothing.
    let krate = if args.is_empty() {
        None
    } else {
        let parsed = syn::parse::Parser::parse2(
            |input: syn::parse::ParseStream| {
                if !crate::krate::peek(input) {
                    return Err(input.error("expected `crate = path`"));
                }
                let path = crate::krate::parse(input)?;
                if !input.is_empty() {
                    return Err(input.error("expected nothing after `crate = path`"));
                }
                Ok(path)
            },
            args.clone(),
        );
        match parsed {
            Ok(path) => Some(path),
            Err(_) => {
                let error =
                    syn::Error::new_spanned(&args, "`#[public]` takes no arguments: a public handler requires nothing");
                errors.extend(error.to_compile_error());
                None
            }
        }
    };
    let krate = crate::krate::tokens(krate.as_ref());
    let handler = match syn::parse2::<HandlerFn>(item.clone()) {
        Ok(handler) => handler,
        Err(_) => {
            let at =
                syn::parse2::<syn::Item>(item.clone()).map_or_else(|_| item.clone(), |parsed| item_keyword(&parsed));
            let error = syn::Error::new_spanned(at, WHERE_IT_GOES).to_compile_error();
            return quote! { #errors #error #item };
        }
    };
    if let Err(error) = check_handler(&handler, "public", "requires") {
        let error = error.to_compile_error();
        return quote! { #errors #error #item };
    }
    let HandlerFn { attrs, vis, mut sig, body } = handler;
    sig.inputs.insert(0, syn::parse_quote!(_: #krate::routing::Public));
    quote! { #errors #(#attrs)* #vis #sig #body }
}

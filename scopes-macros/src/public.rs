//! `#[public]`: marks a handler as served to anyone, which a secure-by-default router demands of every
//! handler that is not `#[requires(...)]`. It adds a first parameter of the marker type `Public`, which
//! is how the router sees the mark in the handler's type.

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{ParseStream, Parser};

use crate::ctxt::Errors;
use crate::requires::ast::{HandlerFn, check_handler, item_keyword};

const WHERE_IT_GOES: &str = "`#[public]` goes on an `async fn` handler";

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    // Only `crate = path`, for a renamed runtime: a public handler requires nothing.
    let krate = if args.is_empty() {
        None
    } else {
        match crate_only.parse2(args.clone()) {
            Ok(path) => Some(path),
            Err(_) => {
                errors.error_at(&args, "`#[public]` takes no arguments: a public handler requires nothing");
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
            errors.error_at(at, WHERE_IT_GOES);
            let errors = errors.to_compile_errors();
            return quote! { #errors #item };
        }
    };
    if let Err(error) = check_handler(&handler, "public", "requires") {
        errors.push(error);
        let errors = errors.to_compile_errors();
        return quote! { #errors #item };
    }
    let HandlerFn { attrs, vis, mut sig, body } = handler;
    sig.inputs.insert(0, syn::parse_quote!(_: #krate::routing::Public));
    let errors = errors.to_compile_errors();
    quote! { #errors #(#attrs)* #vis #sig #body }
}

/// `crate = path` and nothing else.
fn crate_only(input: ParseStream) -> syn::Result<syn::Path> {
    if !crate::krate::peek(input) {
        return Err(input.error("expected `crate = path`"));
    }
    let path = crate::krate::parse(input)?;
    if !input.is_empty() {
        return Err(input.error("expected nothing after `crate = path`"));
    }
    Ok(path)
}

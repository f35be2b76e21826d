//! Code generation for `#[requires]`.
//!
//! A handler keeps its name, attributes and body; its first parameter becomes the `Authorized` extractor,
//! whose pattern hands the principal to the parameter as written. The handler's own scopes travel in a
//! marker type generated beside it. A guard impl is kept as written and gains the `Authorize` impl that
//! chains it to its inner layer with its own scopes added.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use super::ast::{GuardImpl, Handler, Target};

pub fn expand(target: &Target, scopes: &[LitStr]) -> TokenStream {
    let registry_check = registry_check(scopes);
    let expanded = match target {
        Target::Handler(handler) => expand_handler(handler, scopes),
        Target::Guard(guard) => expand_guard(guard, scopes),
    };
    quote! { #registry_check #expanded }
}

/// Looks the scopes up in the crate's registry at compile time. Requiring no scope needs no registry.
fn registry_check(scopes: &[LitStr]) -> TokenStream {
    if scopes.is_empty() {
        return TokenStream::new();
    }
    quote! { crate::__scopes_registry! { #(#scopes)* } }
}

fn expand_handler(handler: &Handler, scopes: &[LitStr]) -> TokenStream {
    let mut item = handler.item.clone();
    let vis = &item.vis;
    let marker = format_ident!("__scopes_requirement_{}", item.sig.ident);
    let principal = &handler.principal;
    let (attrs, pat, ty) = (&principal.attrs, &principal.pat, &principal.ty);
    // Spanned at the user's type, so "not a principal" errors land on it.
    let authorized = quote_spanned! {ty.span()=>
        #(#attrs)* ::scopes_runtime::__private::Authorized(#pat, _): ::scopes_runtime::__private::Authorized<#ty, #marker>
    };
    let rest = item.sig.inputs.iter().skip(1);
    let inputs = quote! { #authorized, #(#rest),* };
    item.sig.inputs = syn::parse_quote! { #inputs };

    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        impl ::scopes_runtime::__private::HandlerRequirement for #marker {
            const SCOPES: &'static [&'static str] = &[#(#scopes),*];
        }

        #item
    }
}

fn expand_guard(guard: &GuardImpl, scopes: &[LitStr]) -> TokenStream {
    let item = &guard.item;
    let state = &guard.state;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    quote! {
        #item

        impl #impl_generics ::scopes_runtime::Authorize<#state> for #self_ty #where_clause {
            fn authorize<'__scopes>(
                parts: &'__scopes mut ::scopes_runtime::__private::Parts,
                state: &'__scopes #state,
                requirement: ::scopes_runtime::Requirement<'__scopes>,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<Self, ::scopes_runtime::AuthError>>
                   + ::core::marker::Send
                   + '__scopes {
                ::scopes_runtime::__private::authorize_guard::<#state, Self>(parts, state, requirement, &[#(#scopes),*])
            }
        }
    }
}

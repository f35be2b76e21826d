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

/// `use` of the two traits that resolve a principal type's chain of guard scopes (see
/// `scopes_runtime::__private::ChainOf`).
fn chain_scopes_of(ty: &syn::Type, out: TokenStream) -> TokenStream {
    quote! {
        #[allow(unused_imports)]
        use ::scopes_runtime::__private::{ChainViaGuard as _, ChainViaPrincipal as _};
        (&::scopes_runtime::__private::ChainOf::<#ty>(::core::marker::PhantomData)).chain_scopes(#out);
    }
}

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

    let handler_name = item.sig.ident.to_string();
    let operation_id =
        handler.operation_id.clone().unwrap_or_else(|| LitStr::new(&handler_name, item.sig.ident.span()));
    let chain = chain_scopes_of(ty, quote!(&mut chain));

    quote! {
        ::scopes_runtime::__private::inventory::submit! {
            ::scopes_runtime::__private::HandlerSecurity {
                handler: #handler_name,
                module: ::core::module_path!(),
                operation_id: #operation_id,
                scopes: {
                    fn effective_scopes() -> ::std::vec::Vec<&'static str> {
                        let mut chain = ::std::vec::Vec::new();
                        #chain
                        ::scopes_runtime::__private::effective_scopes(&[#(#scopes),*], chain)
                    }
                    effective_scopes
                },
            }
        }

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
    let inner = quote!(<#self_ty as ::scopes_runtime::Guard<#state>>::Inner);
    let chain = chain_scopes_of(&syn::parse_quote!(#inner), quote!(out));
    quote! {
        #item

        impl #impl_generics ::scopes_runtime::__private::GuardChain for #self_ty #where_clause {
            fn chain(out: &mut ::std::vec::Vec<&'static str>) {
                out.extend_from_slice(&[#(#scopes),*]);
                #chain
            }
        }

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

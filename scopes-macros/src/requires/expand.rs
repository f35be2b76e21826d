//! Code generation for `#[requires]`.
//!
//! A handler keeps its name, attributes and body; its first parameter becomes the `Authorized` extractor,
//! whose pattern hands the principal to the parameter as written. The extractor's type names a type of
//! the handler's own, which the registry's macro gives its `RequiresHandler` impl: the requirement (built
//! from the marker types the registry declares for its scopes), the principal, and the declared state,
//! so that what is wrong with the principal or the state is reported there, on the user's tokens. A guard
//! impl is kept as written and gains the `Authorize` impl that chains it to its inner layer with its own
//! requirement added.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::LitStr;
use syn::spanned::Spanned;

use super::ast::{GuardImpl, Handler, Target};

/// `krate` is the path to the runtime: `::scopes_runtime`, or the one `crate = path` gives.
pub fn expand(target: &Target, alternatives: &[Vec<LitStr>], krate: &TokenStream) -> TokenStream {
    let requirement = requirement_type(alternatives, krate);
    match target {
        Target::Handler(handler) => expand_handler(handler, &requirement, krate),
        Target::Guard(guard) => expand_guard(guard, &requirement, krate),
    }
}

/// `AnyOf<(AllOf<(S0, S1)>, ...)>`, each scope's marker looked up through the crate's registry, which
/// is also the compile-time check that it is declared: the lookup of an undeclared one is the error.
fn requirement_type(alternatives: &[Vec<LitStr>], krate: &TokenStream) -> TokenStream {
    let all = alternatives.iter().map(|scopes| {
        quote! { #krate::__private::AllOf<( #(crate::__scopes_registry!(#scopes),)* )> }
    });
    quote! { #krate::__private::AnyOf<( #(#all,)* )> }
}

fn expand_handler(handler: &Handler, requirement: &TokenStream, krate: &TokenStream) -> TokenStream {
    let mut item_sig = handler.item.sig.clone();
    // A type of the handler's own, which the registry's macro gives its `Extract` impl: for the declared
    // state when there is one, so that the checks of the principal and the state happen in that impl, on
    // the user's tokens, and not in the router. Named so that attributes reading the signature (utoipa's
    // `#[utoipa::path]`) see a plain path, not a macro.
    let handler_type = format_ident!("__scopes_requirement_{}", item_sig.ident);
    let principal = &handler.principal;
    let (attrs, pat, ty) = (&principal.attrs, &principal.pat, &principal.ty);
    // Spanned at the user's type, so "not a principal" errors land on it: the runtime's path too.
    let krate = &crate::krate::respanned(krate, ty.span());
    let authorized = quote_spanned! {ty.span()=>
        #(#attrs)* #krate::__private::Authorized(#pat, _): #krate::__private::Authorized<#ty, #handler_type>
    };
    let rest = item_sig.inputs.iter().skip(1);
    let inputs = quote! { #authorized, #(#rest),* };
    item_sig.inputs = syn::parse_quote! { #inputs };
    let (attrs, vis, body) = (&handler.item.attrs, &handler.item.vis, &handler.item.body);
    let principal_ty = &principal.ty;
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #handler_type;

        crate::__scopes_registry!(@extractor #handler_type, #principal_ty, #requirement);

        #(#attrs)* #vis #item_sig #body
    }
}

fn expand_guard(guard: &GuardImpl, requirement: &TokenStream, krate: &TokenStream) -> TokenStream {
    let item = &guard.item;
    let state = &guard.state;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let own = quote!(<#requirement as #krate::__private::Disjunction>::ALTERNATIVES);
    quote! {
        #item

        impl #impl_generics #krate::__private::SealedAuthorize<#state> for #self_ty #where_clause {}

        impl #impl_generics #krate::__private::Authorize<#state> for #self_ty #where_clause {
            fn authorize(
                parts: &mut #krate::__private::Parts,
                state: &#state,
                authority: #krate::Authority,
                requirement: #krate::Requirement<'_>,
            ) -> impl ::core::future::Future<Output = ::core::result::Result<Self, #krate::AuthError>>
                   + ::core::marker::Send {
                #krate::__private::authorize_guard::<#state, Self>(parts, state, authority, requirement, #own)
            }

            fn requirement_layers(layers: &mut ::std::vec::Vec<#krate::__private::Alternatives>) {
                layers.push(#own);
                <<#self_ty as #krate::Guard<#state>>::Inner as #krate::__private::Authorize<#state>>::requirement_layers(layers);
            }
        }
    }
}

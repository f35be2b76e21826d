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
use syn::spanned::Spanned;
use syn::{FnArg, PatType, Type};

use super::ast::{GuardImpl, Handler, Target};
use super::attr::AssuranceArgs;
use super::valid::{Alternative, NormalForm};
use crate::ctxt::Errors;

/// `krate` is the path to the runtime: `::scopes_runtime`, or the one `crate = path` gives. Mistakes only
/// the item shows (a rule without a parameter for its resource) are added to `errors`.
pub fn expand(
    target: &Target,
    form: &NormalForm,
    assurance: &AssuranceArgs,
    krate: &TokenStream,
    errors: &mut Errors,
) -> TokenStream {
    let requirement = requirement_type(form.alternatives.iter(), krate);
    match target {
        Target::Handler(handler) => {
            let rule = ruled(handler, form, krate, errors);
            let assured = assured(assurance, krate);
            expand_handler(handler, &requirement, rule, assured, krate)
        }
        Target::Guard(guard) => {
            if let Some(span) = assurance.first_span() {
                errors.push(syn::Error::new(
                    span,
                    "`dpop`, `acr`, `min_acr` and `max_age` say what a route asks of its token, so they go on the \
                     handlers' `#[requires]`, not a guard's",
                ));
            }
            if let Some(rule) = &form.rule {
                errors.error_at(
                    rule,
                    "a resource rule goes on a handler, which takes the resource it loads, not on a guard: move \
                     `rule(...)` to the `#[requires]` of the handlers that act on the resource",
                );
            }
            expand_guard(guard, &requirement, krate)
        }
    }
}

/// The runtime's `Assurance` for what the handler asks beyond scopes (`Assurance::NONE` for nothing).
fn assured(assurance: &AssuranceArgs, krate: &TokenStream) -> TokenStream {
    let private = quote!(#krate::__private);
    let dpop = match assurance.dpop.as_ref().map(syn::LitStr::value).as_deref() {
        Some("off") => quote!(::core::option::Option::Some(#private::DpopMode::Off)),
        Some("allowed") => quote!(::core::option::Option::Some(#private::DpopMode::Allowed)),
        Some("required") => quote!(::core::option::Option::Some(#private::DpopMode::Required)),
        _ => quote!(::core::option::Option::None),
    };
    let acr = assurance.acr.iter().flat_map(|(_, classes)| classes);
    let min_acr = match &assurance.min_acr {
        Some(class) => quote!(::core::option::Option::Some(#class)),
        None => quote!(::core::option::Option::None),
    };
    let max_age = match &assurance.max_age {
        Some((_, seconds)) => quote!(::core::option::Option::Some(#seconds)),
        None => quote!(::core::option::Option::None),
    };
    quote! { #private::Assurance::__new(#dpop, &[#(#acr),*], #min_acr, #max_age) }
}

/// `AnyOf<(AllOf<(S0, S1)>, ...)>`, each scope's marker looked up through the crate's registry, which
/// is also the compile-time check that it is declared: the lookup of an undeclared one is the error.
fn requirement_type<'a>(alternatives: impl Iterator<Item = &'a Alternative>, krate: &TokenStream) -> TokenStream {
    let all = alternatives.map(|alternative| {
        let scopes = &alternative.scopes;
        quote! { #krate::__private::AllOf<( #(crate::__scopes_registry!(#scopes),)* )> }
    });
    quote! { #krate::__private::AnyOf<( #(#all,)* )> }
}

/// What the registry's extractor arm is told about a handler's rule: `rule = T, mode = One<R>, unruled =
/// AnyOf<...>, ruled = [true, false]`.
fn ruled(handler: &Handler, form: &NormalForm, krate: &TokenStream, errors: &mut Errors) -> Option<TokenStream> {
    let taken = handed_parameter(handler);
    let Some(rule) = &form.rule else {
        if let Some((_, param)) = taken {
            errors.error_at(
                &param.ty,
                "this parameter is what a resource rule hands over, and `#[requires]` names none: add the rule that \
                 loads it, e.g. `#[requires(scopes = [\"items\"], rule(ItemOwner))]`",
            );
        }
        return None;
    };
    let Some((kind, param)) = taken else {
        errors.error_at(
            rule,
            format!(
                "the rule `{}` loads a resource for this handler: take it as a parameter, `item: Checked<Resource>` \
                 for one (from the path) or `items: Visible<Resource>` for a list (`scopes_runtime::enforcement`)",
                quote::ToTokens::to_token_stream(rule)
            ),
        );
        return None;
    };
    let Some(resource) = only_type_argument(&param.ty) else {
        errors.error_at(&param.ty, format!("expected `{kind}<Resource>`, naming the type the rule loads"));
        return None;
    };
    let mode = format_ident!("{}", if kind == "Checked" { "One" } else { "Many" });
    // Every token at the parameter's type, so that a rule of another resource is reported there.
    let span = param.ty.span();
    let at_param = crate::krate::respanned(krate, span);
    let mode = quote_spanned! {span=> #at_param::__private::#mode<#resource> };
    let unruled = requirement_type(form.alternatives.iter().filter(|alternative| !alternative.ruled), krate);
    let flags = form.alternatives.iter().map(|alternative| alternative.ruled);
    Some(quote! { rule = #rule, mode = #mode, unruled = #unruled, ruled = [#(#flags),*] })
}

/// The handler's parameter of type `Checked<T>` or `Visible<T>`, with which of the two it is.
fn handed_parameter(handler: &Handler) -> Option<(&'static str, &PatType)> {
    handler.item.sig.inputs.iter().skip(1).find_map(|input| {
        let FnArg::Typed(param) = input else { return None };
        let Type::Path(path) = &*param.ty else { return None };
        let last = path.path.segments.last()?;
        ["Checked", "Visible"].into_iter().find(|kind| last.ident == kind).map(|kind| (kind, param))
    })
}

/// `T` of `Checked<T>`.
fn only_type_argument(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &path.path.segments.last()?.arguments else { return None };
    match args.args.first() {
        Some(syn::GenericArgument::Type(ty)) if args.args.len() == 1 => Some(ty),
        _ => None,
    }
}

fn expand_handler(
    handler: &Handler,
    requirement: &TokenStream,
    rule: Option<TokenStream>,
    assured: TokenStream,
    krate: &TokenStream,
) -> TokenStream {
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
    let extractor = if rule.is_some() { format_ident!("AuthorizedRuled") } else { format_ident!("Authorized") };
    let authorized = quote_spanned! {ty.span()=>
        #(#attrs)* #krate::__private::#extractor(#pat, _): #krate::__private::#extractor<#ty, #handler_type>
    };
    let rule = rule.map(|rule| quote!(, #rule));
    let rest = item_sig.inputs.iter().skip(1);
    let inputs = quote! { #authorized, #(#rest),* };
    item_sig.inputs = syn::parse_quote! { #inputs };
    let (attrs, vis, body) = (&handler.item.attrs, &handler.item.vis, &handler.item.body);
    let principal_ty = &principal.ty;
    let private = quote!(#krate::__private);
    quote! {
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #handler_type;

        impl #private::Assured for #handler_type {
            const ASSURANCE: #private::Assurance = #assured;
        }

        crate::__scopes_registry!(@extractor #handler_type, #principal_ty, #requirement #rule);

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

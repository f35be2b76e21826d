//! The code `registry!` generates: `SCOPE_REGISTRY`, one marker type per scope carrying its hierarchy,
//! the `__scopes_registry!` lookup `#[requires]` checks its scopes through, and a declared state's items.

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{Ident, LitStr};

use super::check::Checked;
use super::parse::Declaration;

/// The registry `declaration` declares, as `checked` found it.
pub(super) fn expand(declaration: &Declaration, checked: &Checked<'_>) -> TokenStream {
    let Checked { scheme, token_url, hierarchy } = checked;
    let scopes = declaration.scopes.as_deref().unwrap_or_default();
    let krate = crate::krate::tokens(declaration.krate.as_ref());
    let names: Vec<&LitStr> = scopes.iter().map(|scope| &scope.name).collect();
    let markers: Vec<Ident> = (0..scopes.len()).map(|index| format_ident!("S{index}")).collect();
    let marker_impls = scopes.iter().zip(&markers).zip(hierarchy).map(|((scope, marker), (implies, implied_by))| {
        let (name, description) = (&scope.name, &scope.description);
        let implies = implies.iter().map(|&i| names[i]);
        let implied_by = implied_by.iter().map(|&i| names[i]);
        quote! {
            #[doc = concat!("The declared scope `", #name, "`.")]
            pub struct #marker;
            impl #krate::__private::DeclaredScope for #marker {
                const SCOPE: #krate::Scope = #krate::Scope {
                    name: #name,
                    description: #description,
                    implies: &[#(#implies),*],
                    implied_by: &[#(#implied_by),*],
                };
            }
        }
    });
    let extractor_arm = extractor_arm(&krate, declaration.state.as_ref());
    let state_alias = declaration.state.as_ref().map(|state| state_items(&krate, state));
    let scopes = quote!(&[#(<__scopes::#markers as #krate::__private::DeclaredScope>::SCOPE),*]);
    let registry = registry_static(&krate, scheme, *token_url, &scopes);
    quote! {
        #state_alias

        #registry

        /// One marker type per declared scope: `#[requires]` builds a requirement's type from them.
        #[doc(hidden)]
        pub mod __scopes {
            #(#marker_impls)*
        }

        const _: () = #krate::__private::assert_registry_at_crate_root(::core::module_path!());

        /// A declared scope's marker type, by name; any other name is a compile error on the string.
        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __scopes_registry {
            #extractor_arm
            #( (#names) => { crate::__scopes::#markers }; )*
            ($other:literal) => {
                #krate::__private::check_scopes! { declared = [#(#names),*], required = [$other] }
            };
        }

        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use __scopes_registry;

        /// The same lookup, for the crate's integration tests and for other crates
        /// (`scopes_runtime::testing::scopes![in app: "me"]`): exported, so never named by path here.
        #[doc(hidden)]
        #[macro_export]
        macro_rules! __scopes_registry_export {
            #( (#names) => { $crate::__scopes::#markers }; )*
            ($other:literal) => {
                #krate::__private::check_scopes! { declared = [#(#names),*], required = [$other] }
            };
        }
    }
}

/// `SCOPE_REGISTRY`: an `IssuingRegistry` where the declaration gives a token URL (what a token endpoint
/// needs, checked by its type), a plain `Registry` where it does not (a crate that only verifies tokens).
pub(crate) fn registry_static(
    krate: &TokenStream,
    scheme: &LitStr,
    token_url: Option<&LitStr>,
    scopes: &TokenStream,
) -> TokenStream {
    let doc =
        quote!(#[doc = "The application's security scheme and scopes, declared with `scopes_runtime::registry!`."]);
    match token_url {
        Some(token_url) => quote! {
            #doc
            pub static SCOPE_REGISTRY: #krate::registry::IssuingRegistry =
                #krate::registry::IssuingRegistry::__new(#scheme, #token_url, #scopes);
        },
        None => quote! {
            #doc
            pub static SCOPE_REGISTRY: #krate::Registry = #krate::Registry::__new(#scheme, ::core::option::Option::None, #scopes);
        },
    }
}

/// A declared state's alias, for generated code anywhere in the crate, and where its handlers find the
/// `Authority`: a type whose impl is the one place that needs the state to provide it, so that a state
/// without one is one error, at the state as the registry names it.
fn state_items(krate: &TokenStream, state: &syn::Type) -> TokenStream {
    let span = syn::spanned::Spanned::span(state);
    let from_state = crate::krate::respanned(
        &quote!(<#krate::Authority as #krate::__private::AuthorityIn<crate::__ScopesState>>::authority_in),
        span,
    );
    quote! {
        /// The app's state, as `registry!` declares it: what `#[requires]` handlers are checked against.
        #[doc(hidden)]
        #[allow(dead_code)]
        pub(crate) type __ScopesState = #state;

        /// Where the handlers of the declared state find its `Authority`. Public, as the handlers' types
        /// naming it may be.
        #[doc(hidden)]
        pub struct __ScopesAuthority;

        impl #krate::__private::AuthorityIn<__ScopesState> for __ScopesAuthority {
            fn authority_in(state: &__ScopesState) -> #krate::Authority {
                #from_state(state)
            }
        }
    }
}

/// The arm of `__scopes_registry!` through which `#[requires]` gives a handler's extractor type its
/// `Extract` impl: for the declared state, or for any state that meets the bounds.
///
/// With a declared state the impl names it and bounds nothing, so that a parameter type that is no
/// principal fails on the impl's `type Principal` (spanned at the user's type), and the handler stays a
/// handler: the router adds no error of its own. Whether the state provides an `Authority` is checked
/// once, by the registry (`state_items`).
pub(crate) fn extractor_arm(krate: &TokenStream, state: Option<&syn::Type>) -> TokenStream {
    let private = quote!(#krate::__private);
    let ruled_items = quote! {
        type Rule = $rule;
        type Mode = $mode;
        const UNRULED: #private::Alternatives = <$unruled as #private::Disjunction>::ALTERNATIVES;
        const RULED: &'static [bool] = &[$($ruled),*];
    };
    let (header, ruled) = match state {
        Some(_) => (
            quote! {
                impl #krate::__private::RequiresHandler<crate::__ScopesState> for $local {
                    type Principal = $principal;
                    type Authority = crate::__ScopesAuthority;
                }
            },
            quote! {
                impl #private::RuledHandler<crate::__ScopesState> for $local {
                    #ruled_items
                }
            },
        ),
        None => (
            quote! {
                impl<S> #krate::__private::RequiresHandler<S> for $local
                where
                    $principal: #krate::__private::Authorize<S>,
                    #krate::Authority: #krate::__private::AuthorityIn<S>,
                {
                    type Principal = $principal;
                    type Authority = #krate::Authority;
                }
            },
            quote! {
                impl<S: ::core::marker::Sync> #private::RuledHandler<S> for $local
                where
                    $principal: #krate::__private::Authorize<S>,
                    #krate::Authority: #krate::__private::AuthorityIn<S>,
                    $rule: #krate::enforcement::Rule<S, Principal = $principal>,
                    $mode: #private::RuleMode<S, $rule>,
                {
                    #ruled_items
                }
            },
        ),
    };
    quote! {
        (@extractor $local:ident, $principal:ty, $requirement:ty
            $(, rule = $rule:ty, mode = $mode:ty, unruled = $unruled:ty, ruled = [$($ruled:literal),*])?) => {
            impl #private::Disjunction for $local {
                const ALTERNATIVES: #krate::__private::Alternatives = <$requirement as #private::Disjunction>::ALTERNATIVES;
            }
            #header
            $( #ruled )?
        };
    }
}

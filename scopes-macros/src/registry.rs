//! `registry!`: the one declaration of the security scheme and its scopes.
//!
//! It produces the runtime `SCOPE_REGISTRY` (what the OpenAPI security scheme is built from) and the
//! `__scopes_registry!` macro through which `#[requires]` checks its scopes at compile time.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token, braced};

use crate::ctxt::Errors;
use crate::scope_token::{closest, scope_token_problem};

const KEYS: &[&str] = &["scheme", "token_url", "scopes"];
const SHAPE: &str = "expected `scheme = \"...\", token_url = \"...\", scopes = { \"name\" => \"description\", ... }`";

#[derive(Default)]
struct Declaration {
    scheme: Option<LitStr>,
    token_url: Option<LitStr>,
    scopes: Option<Vec<(LitStr, LitStr)>>,
    problems: Vec<syn::Error>,
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut declaration = Declaration::default();
        while !input.is_empty() {
            let key: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), SHAPE))?;
            input.parse::<Token![=]>()?;
            let repeated = || syn::Error::new_spanned(&key, format!("`{key}` specified more than once"));
            match key.to_string().as_str() {
                "scheme" => {
                    let value = input.parse()?;
                    if declaration.scheme.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                "token_url" => {
                    let value = input.parse()?;
                    if declaration.token_url.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                "scopes" => {
                    let value = parse_scopes(input)?;
                    if declaration.scopes.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                other => {
                    let hint = closest(other, KEYS.iter().copied())
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    return Err(syn::Error::new_spanned(&key, format!("unknown key `{other}`; {hint}{SHAPE}")));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(declaration)
    }
}

fn parse_scopes(input: ParseStream) -> syn::Result<Vec<(LitStr, LitStr)>> {
    let content;
    braced!(content in input);
    let mut scopes = Vec::new();
    while !content.is_empty() {
        let name: LitStr = content
            .parse()
            .map_err(|e| syn::Error::new(e.span(), "expected a scope name as a string literal: `\"me\" => \"...\"`"))?;
        content.parse::<Token![=>]>()?;
        let description: LitStr = content.parse().map_err(|e| {
            syn::Error::new(e.span(), format!("expected the description of `{}` as a string literal", name.value()))
        })?;
        scopes.push((name, description));
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(scopes)
}

pub fn expand(input: TokenStream) -> TokenStream {
    let declaration = match syn::parse2::<Declaration>(input) {
        Ok(declaration) => declaration,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    for problem in &declaration.problems {
        errors.push(problem.clone());
    }
    let missing = |key: &str| syn::Error::new(proc_macro2::Span::call_site(), format!("missing `{key}`; {SHAPE}"));
    let (Some(scheme), Some(token_url)) = (&declaration.scheme, &declaration.token_url) else {
        if declaration.scheme.is_none() {
            errors.push(missing("scheme"));
        }
        if declaration.token_url.is_none() {
            errors.push(missing("token_url"));
        }
        return errors.to_compile_errors();
    };
    for (value, what) in [(scheme, "scheme name"), (token_url, "token URL")] {
        if value.value().is_empty() {
            errors.error_at(value, format!("the {what} must not be empty"));
        }
    }
    let scopes = declaration.scopes.unwrap_or_default();
    let mut seen = HashSet::new();
    for (name, _) in &scopes {
        if let Some(problem) = scope_token_problem(&name.value()) {
            errors.error_at(name, problem);
        } else if !seen.insert(name.value()) {
            errors.error_at(name, format!("scope `{}` is declared more than once", name.value()));
        }
    }
    if !errors.is_empty() {
        return errors.to_compile_errors();
    }

    let names: Vec<&LitStr> = scopes.iter().map(|(name, _)| name).collect();
    let descriptions = scopes.iter().map(|(_, description)| description);
    quote! {
        /// The application's security scheme and scopes, declared with `scopes_runtime::registry!`.
        pub static SCOPE_REGISTRY: ::scopes_runtime::Registry = ::scopes_runtime::Registry::__new(
            #scheme,
            #token_url,
            &[#(::scopes_runtime::Scope { name: #names, description: #descriptions }),*],
        );

        const _: () = ::scopes_runtime::__private::assert_registry_at_crate_root(::core::module_path!());

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __scopes_registry {
            ($($required:tt)*) => {
                ::scopes_runtime::__private::check_scopes! { declared = [#(#names),*], required = [$($required)*] }
            };
        }

        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use __scopes_registry;
    }
}

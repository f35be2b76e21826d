//! `registry!`: the one declaration of the security scheme and its scopes.
//!
//! It produces the runtime `SCOPE_REGISTRY` (what the OpenAPI security scheme is built from) and the
//! `__scopes_registry!` macro through which `#[requires]` checks its scopes at compile time.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token, braced, bracketed};

use crate::ctxt::Errors;
use crate::scope_token::{closest, list, scope_token_problem};

const KEYS: &[&str] = &["scheme", "token_url", "scopes", "state"];
const SHAPE: &str = "expected `scheme = \"...\", token_url = \"...\", scopes = { \"name\" => \"description\", ... }` \
                     (a scope may add `implies [\"other\", ...]`), and optionally `state = AppState`";

/// One scope as declared: `"name" => "description"`, optionally `implies ["other", ...]`.
struct Declared {
    name: LitStr,
    description: LitStr,
    implies: Vec<LitStr>,
}

mod kw {
    syn::custom_keyword!(implies);
}

#[derive(Default)]
struct Declaration {
    scheme: Option<LitStr>,
    token_url: Option<LitStr>,
    scopes: Option<Vec<Declared>>,
    /// `state = Type`: the app's state, which every `#[requires]` handler of the crate is then checked
    /// against where it is declared.
    state: Option<syn::Type>,
    /// `crate = path`: the runtime under another name.
    krate: Option<syn::Path>,
    problems: Vec<syn::Error>,
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut declaration = Declaration::default();
        while !input.is_empty() {
            if crate::krate::peek(input) {
                let span = input.span();
                if declaration.krate.replace(crate::krate::parse(input)?).is_some() {
                    declaration.problems.push(syn::Error::new(span, "`crate` specified more than once"));
                }
                if input.is_empty() {
                    break;
                }
                input.parse::<Token![,]>()?;
                continue;
            }
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
                "state" => {
                    let value = input.parse()?;
                    if declaration.state.replace(value).is_some() {
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

fn parse_scopes(input: ParseStream) -> syn::Result<Vec<Declared>> {
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
        let mut implies = Vec::new();
        if content.peek(kw::implies) {
            content.parse::<kw::implies>()?;
            if !content.peek(syn::token::Bracket) {
                return Err(content.error("expected the implied scopes in brackets: `implies [\"items\"]`"));
            }
            let list;
            bracketed!(list in content);
            implies = list
                .parse_terminated(<LitStr as Parse>::parse, Token![,])
                .map_err(|e| {
                    syn::Error::new(e.span(), "expected the implied scopes as string literals: `implies [\"items\"]`")
                })?
                .into_iter()
                .collect();
        } else if !content.is_empty() && !content.peek(Token![,]) {
            return Err(content
                .error(format!("expected `,` or `implies [\"...\"]` after the description of `{}`", name.value())));
        }
        scopes.push(Declared { name, description, implies });
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(scopes)
}

/// Checks every implication names a declared scope other than its own, once, and that no scope implies
/// itself through others; then closes the hierarchy: for each scope, every scope it implies and every
/// scope implying it, transitively, as indices in declaration order.
fn hierarchy(scopes: &[Declared], errors: &mut Errors) -> Vec<(Vec<usize>, Vec<usize>)> {
    let names: Vec<String> = scopes.iter().map(|scope| scope.name.value()).collect();
    let mut direct: Vec<Vec<usize>> = vec![Vec::new(); scopes.len()];
    // Each accepted implication, `(as written, from, to)`, for the cycle check.
    let mut edges: Vec<(&LitStr, usize, usize)> = Vec::new();
    for (index, scope) in scopes.iter().enumerate() {
        for implied in &scope.implies {
            let name = implied.value();
            match names.iter().position(|declared| *declared == name) {
                None => {
                    let hint = closest(&name, names.iter().map(String::as_str))
                        .map(|near| format!("did you mean `{near}`? "))
                        .unwrap_or_default();
                    errors.error_at(
                        implied,
                        format!(
                            "`{}` implies `{name}`, which is not declared; {hint}declared scopes are {}",
                            names[index],
                            list(&names)
                        ),
                    );
                }
                Some(target) if target == index => {
                    errors.error_at(implied, format!("`{name}` implies itself; a scope always grants itself"))
                }
                Some(target) if direct[index].contains(&target) => {
                    errors.error_at(implied, format!("`{}` implies `{name}` more than once", names[index]))
                }
                Some(target) => {
                    direct[index].push(target);
                    edges.push((implied, index, target));
                }
            }
        }
    }
    // A cycle: reported once, at the implication that closes it, with the whole loop.
    for (implied, index, target) in edges {
        let Some(path) = path_between(&direct, target, index) else { continue };
        if path.iter().all(|&step| step >= index) {
            let mut loop_names: Vec<&str> = vec![&names[index]];
            loop_names.extend(path.iter().map(|&step| names[step].as_str()));
            errors.error_at(
                implied,
                format!("scope implications form a cycle: {}; a hierarchy must not loop", loop_names.join(" -> ")),
            );
        }
    }
    let closure = |from: usize, edges: &dyn Fn(usize) -> Vec<usize>| {
        let mut reached = vec![false; scopes.len()];
        let mut stack = edges(from);
        while let Some(next) = stack.pop() {
            if next != from && !std::mem::replace(&mut reached[next], true) {
                stack.extend(edges(next));
            }
        }
        (0..scopes.len()).filter(|&i| reached[i]).collect::<Vec<_>>()
    };
    (0..scopes.len())
        .map(|index| {
            let implies = closure(index, &|at| direct[at].clone());
            let implied_by =
                closure(index, &|at| (0..scopes.len()).filter(|&from| direct[from].contains(&at)).collect());
            (implies, implied_by)
        })
        .collect()
}

/// The scopes from `from` to `to` through direct implications, both included, if `to` is reachable.
fn path_between(direct: &[Vec<usize>], from: usize, to: usize) -> Option<Vec<usize>> {
    let mut previous: Vec<Option<usize>> = vec![None; direct.len()];
    let mut queue = std::collections::VecDeque::from([from]);
    let mut visited = vec![false; direct.len()];
    visited[from] = true;
    while let Some(at) = queue.pop_front() {
        if at == to {
            let mut path = vec![to];
            let mut step = to;
            while let Some(before) = previous[step] {
                path.push(before);
                step = before;
            }
            path.reverse();
            return Some(path);
        }
        for &next in &direct[at] {
            if !std::mem::replace(&mut visited[next], true) {
                previous[next] = Some(at);
                queue.push_back(next);
            }
        }
    }
    None
}

/// What a registry with errors expands to: the errors, and a registry of what parsed whose lookup accepts
/// any scope, so the crate's `#[requires]` attributes add no errors of their own (thiserror's
/// `fallback.rs`): the user sees the registry's mistakes and nothing else.
fn fallback(errors: TokenStream, declaration: Option<&Declaration>) -> TokenStream {
    let empty = LitStr::new("", proc_macro2::Span::call_site());
    let scheme = declaration.and_then(|d| d.scheme.as_ref()).unwrap_or(&empty);
    let token_url = declaration.and_then(|d| d.token_url.as_ref()).unwrap_or(&empty);
    let scopes = declaration.and_then(|d| d.scopes.as_deref()).unwrap_or_default();
    let (names, descriptions) = (scopes.iter().map(|s| &s.name), scopes.iter().map(|s| &s.description));
    let krate = crate::krate::tokens(declaration.and_then(|d| d.krate.as_ref()));
    // Generic over the state: a declared state is not checked against handlers while the registry has
    // errors of its own.
    let extractor_arm = extractor_arm(&krate, None);
    quote! {
        #errors

        /// The application's security scheme and scopes, declared with `scopes_runtime::registry!`.
        pub static SCOPE_REGISTRY: #krate::Registry = #krate::Registry::__new(
            #scheme,
            #token_url,
            &[#(#krate::Scope { name: #names, description: #descriptions, implies: &[], implied_by: &[] }),*],
        );

        #[doc(hidden)]
        #[allow(unused_macros)]
        macro_rules! __scopes_registry {
            #extractor_arm
            ($other:literal) => { () };
        }

        #[doc(hidden)]
        #[allow(unused_imports)]
        pub(crate) use __scopes_registry;
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
fn extractor_arm(krate: &TokenStream, state: Option<&syn::Type>) -> TokenStream {
    let private = quote!(#krate::__private);
    let header = match state {
        Some(_) => quote! {
            impl #krate::__private::RequiresHandler<crate::__ScopesState> for $local {
                type Principal = $principal;
                type Authority = crate::__ScopesAuthority;
            }
        },
        None => quote! {
            impl<S> #krate::__private::RequiresHandler<S> for $local
            where
                $principal: #krate::__private::Authorize<S>,
                #krate::Authority: #krate::__private::AuthorityIn<S>,
            {
                type Principal = $principal;
                type Authority = #krate::Authority;
            }
        },
    };
    quote! {
        (@extractor $local:ident, $principal:ty, $requirement:ty) => {
            impl #private::Disjunction for $local {
                const ALTERNATIVES: #krate::__private::Alternatives = <$requirement as #private::Disjunction>::ALTERNATIVES;
            }
            #header
        };
    }
}

pub fn expand(input: TokenStream) -> TokenStream {
    let declaration = match syn::parse2::<Declaration>(input) {
        Ok(declaration) => declaration,
        Err(error) => return fallback(error.to_compile_error(), None),
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
        return fallback(errors.to_compile_errors(), Some(&declaration));
    };
    for (value, what) in [(scheme, "scheme name"), (token_url, "token URL")] {
        if value.value().is_empty() {
            errors.error_at(value, format!("the {what} must not be empty"));
        }
    }
    let scopes = declaration.scopes.as_deref().unwrap_or_default();
    let mut seen = HashSet::new();
    for scope in scopes {
        let name = &scope.name;
        if let Some(problem) = scope_token_problem(&name.value()) {
            errors.error_at(name, problem);
        } else if !seen.insert(name.value()) {
            errors.error_at(name, format!("scope `{}` is declared more than once", name.value()));
        }
    }
    if !errors.is_empty() {
        return fallback(errors.to_compile_errors(), Some(&declaration));
    }
    let hierarchy = hierarchy(scopes, &mut errors);
    if !errors.is_empty() {
        return fallback(errors.to_compile_errors(), Some(&declaration));
    }

    let krate = crate::krate::tokens(declaration.krate.as_ref());
    let names: Vec<&LitStr> = scopes.iter().map(|scope| &scope.name).collect();
    let markers: Vec<Ident> = (0..scopes.len()).map(|index| format_ident!("S{index}")).collect();
    let marker_impls = scopes.iter().zip(&markers).zip(&hierarchy).map(|((scope, marker), (implies, implied_by))| {
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
    quote! {
        #state_alias

        /// The application's security scheme and scopes, declared with `scopes_runtime::registry!`.
        pub static SCOPE_REGISTRY: #krate::Registry = #krate::Registry::__new(
            #scheme,
            #token_url,
            &[#(<__scopes::#markers as #krate::__private::DeclaredScope>::SCOPE),*],
        );

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
    }
}

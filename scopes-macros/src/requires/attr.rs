//! The arguments of `#[requires(...)]`.
//!
//! Grammar: empty, or a comma-separated list of arguments; today the one argument is
//! `scopes = ["...", ...]`. Requirement expressions (`any(...)`, `all(...)`) will be further arguments of
//! the call form `name(...)`, which is why an unknown name is reported with the forms that exist.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Token, bracketed};

use crate::scope_token::closest;

/// The names `#[requires]` accepts, for "unknown argument" messages.
const ARGUMENTS: &[&str] = &["scopes"];

#[derive(Default)]
pub struct Args {
    pub scopes: Option<ScopesArg>,
    /// Problems found while reading arguments that still parsed (repeats, non-string elements).
    pub problems: Vec<syn::Error>,
}

pub struct ScopesArg {
    /// Each element as written; only string literals are scopes, the rest are reported.
    pub elements: Vec<Expr>,
}

impl ScopesArg {
    pub fn literals(&self) -> impl Iterator<Item = &LitStr> {
        self.elements.iter().filter_map(|element| match element {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => Some(lit),
            _ => None,
        })
    }
}

mod kw {
    syn::custom_keyword!(scopes);
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            let lookahead = input.lookahead1();
            if lookahead.peek(kw::scopes) {
                let key: kw::scopes = input.parse()?;
                let value = parse_scope_list(input)?;
                if args.scopes.is_some() {
                    args.problems.push(syn::Error::new_spanned(key, "`scopes` specified more than once"));
                } else {
                    args.scopes = Some(value);
                }
            } else if lookahead.peek(Ident) {
                return Err(unknown_argument(input.parse()?));
            } else {
                return Err(syn::Error::new(
                    input.span(),
                    "expected `scopes = [\"...\"]`, e.g. `#[requires(scopes = [\"me\"])]`",
                ));
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}

fn parse_scope_list(input: ParseStream) -> syn::Result<ScopesArg> {
    input.parse::<Token![=]>()?;
    if !input.peek(syn::token::Bracket) {
        return Err(syn::Error::new(input.span(), "expected a list of scopes: `scopes = [\"...\"]`"));
    }
    let content;
    bracketed!(content in input);
    let elements: Punctuated<Expr, Token![,]> = content.parse_terminated(Expr::parse, Token![,])?;
    Ok(ScopesArg { elements: elements.into_iter().collect() })
}

fn unknown_argument(name: Ident) -> syn::Error {
    let written = name.to_string();
    let expected = ARGUMENTS.iter().map(|a| format!("`{a} = [\"...\"]`")).collect::<Vec<_>>().join(", ");
    let message = match closest(&written, ARGUMENTS.iter().copied()) {
        Some(near) => format!("unknown argument `{written}`; did you mean `{near}`? expected {expected}"),
        None => format!("unknown argument `{written}`; expected {expected}"),
    };
    syn::Error::new_spanned(name, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        syn::parse2(tokens)
    }

    fn scope_names(args: &Args) -> Vec<String> {
        args.scopes.as_ref().map(|s| s.literals().map(LitStr::value).collect()).unwrap_or_default()
    }

    #[test]
    fn empty_arguments_require_no_scope() {
        let args = parse(quote::quote!()).unwrap();
        assert!(args.scopes.is_none() && args.problems.is_empty());
    }

    #[test]
    fn reads_scopes_with_and_without_trailing_commas() {
        assert_eq!(scope_names(&parse(quote::quote!(scopes = ["me", "items"])).unwrap()), ["me", "items"]);
        assert_eq!(scope_names(&parse(quote::quote!(scopes = ["me",],)).unwrap()), ["me"]);
        assert!(scope_names(&parse(quote::quote!(scopes = [])).unwrap()).is_empty());
    }

    #[test]
    fn keeps_non_literal_elements_for_the_checks_to_report() {
        let args = parse(quote::quote!(scopes = [me, "items", 1])).unwrap();
        assert_eq!(args.scopes.as_ref().unwrap().elements.len(), 3);
        assert_eq!(scope_names(&args), ["items"]);
    }

    #[test]
    fn a_repeated_argument_is_a_problem_and_the_first_wins() {
        let args = parse(quote::quote!(scopes = ["me"], scopes = ["items"])).unwrap();
        assert_eq!(args.problems.len(), 1);
        assert_eq!(args.problems[0].to_string(), "`scopes` specified more than once");
        assert_eq!(scope_names(&args), ["me"]);
    }

    #[test]
    fn unknown_arguments_suggest_the_near_one() {
        let error = parse(quote::quote!(scope = ["me"])).err().unwrap().to_string();
        assert!(error.starts_with("unknown argument `scope`; did you mean `scopes`?"), "{error}");
        let error = parse(quote::quote!(roles = ["me"])).err().unwrap().to_string();
        assert!(!error.contains("did you mean"), "{error}");
    }

    #[test]
    fn values_that_are_not_lists_are_refused() {
        for tokens in [quote::quote!(scopes = "me"), quote::quote!("me"), quote::quote!(scopes)] {
            assert!(parse(tokens.clone()).is_err(), "{tokens}");
        }
    }
}

//! The arguments of `#[requires(...)]`: a requirement expression.
//!
//! Grammar: empty (authentication alone), or a comma-separated list of terms that must all hold:
//!
//! ```text
//! term    = "scopes" "=" "[" string, ... "]"   every listed scope
//!         | "any" "(" element, ... ")"         at least one element
//!         | "all" "(" element, ... ")"         every element
//!         | "rule" "(" path ")"                a resource rule (`scopes_runtime::enforcement::Rule`)
//! element = string | any(...) | all(...) | rule(...)
//! ```

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Token, bracketed, parenthesized};

use crate::scope_token::closest;

/// The names `#[requires]` accepts, for "unknown argument" messages.
const ARGUMENTS: &[&str] = &["scopes", "any", "all", "rule"];
const FORMS: &str = "`scopes = [\"...\"]`, `any(...)`, `all(...)` or `rule(Type)`";

/// One node of a requirement expression, with the spans errors point at.
#[derive(Clone)]
pub enum Term {
    Scope(LitStr),
    /// `any(...)`; the span is the keyword's.
    Any(Span, Vec<Term>),
    /// `all(...)` or `scopes = [...]`; the span is the keyword's.
    All(Span, Vec<Term>),
    /// `rule(Type)`: the path of the rule's type.
    Rule(syn::Path),
}

#[derive(Default)]
pub struct Args {
    /// The top-level terms, all of which must hold.
    pub terms: Vec<Term>,
    /// Problems found while reading arguments that still parsed (repeats, non-string elements, empty
    /// lists), reported together.
    pub problems: Vec<syn::Error>,
    /// `crate = path`: the runtime under another name.
    pub krate: Option<syn::Path>,
}

mod kw {
    syn::custom_keyword!(scopes);
}

impl Parse for Args {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut scopes_seen = false;
        while !input.is_empty() {
            if crate::krate::peek(input) {
                let span = input.span();
                if args.krate.replace(crate::krate::parse(input)?).is_some() {
                    args.problems.push(syn::Error::new(span, "`crate` specified more than once"));
                }
            } else if input.peek(kw::scopes) && input.peek2(Token![=]) {
                let key: kw::scopes = input.parse()?;
                let term = parse_scope_list(key.span, input, &mut args.problems)?;
                if std::mem::replace(&mut scopes_seen, true) {
                    args.problems.push(syn::Error::new(key.span, "`scopes` specified more than once"));
                } else {
                    args.terms.push(term);
                }
            } else if input.peek(Ident) {
                let term = parse_call(input, &mut args.problems)?;
                args.terms.push(term);
            } else {
                return Err(syn::Error::new(
                    input.span(),
                    format!("expected {FORMS}, e.g. `#[requires(scopes = [\"me\"])]`"),
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

fn parse_scope_list(span: Span, input: ParseStream, problems: &mut Vec<syn::Error>) -> syn::Result<Term> {
    input.parse::<Token![=]>()?;
    if !input.peek(syn::token::Bracket) {
        return Err(syn::Error::new(input.span(), "expected a list of scopes: `scopes = [\"...\"]`"));
    }
    let content;
    bracketed!(content in input);
    let elements: Punctuated<Expr, Token![,]> = content.parse_terminated(Expr::parse, Token![,])?;
    let mut scopes = Vec::new();
    for element in elements {
        match element {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => scopes.push(Term::Scope(lit)),
            other => {
                problems.push(syn::Error::new(other.span(), "expected a scope name as a string literal, e.g. `\"me\"`"))
            }
        }
    }
    Ok(Term::All(span, scopes))
}

/// `any(...)` or `all(...)`, whose name has been peeked.
fn parse_call(input: ParseStream, problems: &mut Vec<syn::Error>) -> syn::Result<Term> {
    let name: Ident = input.parse()?;
    let written = name.to_string();
    if written == "scopes" {
        return Err(syn::Error::new(name.span(), "expected a list of scopes: `scopes = [\"...\"]`"));
    }
    if written == "rule" {
        return parse_rule(&name, input);
    }
    if written != "any" && written != "all" {
        return Err(unknown_argument(&name));
    }
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            name.span(),
            format!("expected `{written}(...)` with its elements in parentheses"),
        ));
    }
    let content;
    parenthesized!(content in input);
    let mut elements = Vec::new();
    while !content.is_empty() {
        if content.peek(LitStr) {
            elements.push(Term::Scope(content.parse()?));
        } else if content.peek(Ident) && content.peek2(syn::token::Paren) {
            elements.push(parse_call(&content, problems)?);
        } else {
            let wrong: proc_macro2::TokenTree = content.parse()?;
            problems.push(syn::Error::new(
                wrong.span(),
                "expected a scope name as a string literal, `any(...)`, `all(...)` or `rule(Type)`",
            ));
            // Skip to the next element, so every mistake in the list is reported at once.
            while !content.is_empty() && !content.peek(Token![,]) {
                content.parse::<proc_macro2::TokenTree>()?;
            }
        }
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    if elements.is_empty() {
        let message = if written == "any" {
            "`any()` lists no alternative, so nothing could ever meet it: name at least one scope"
        } else {
            "`all()` lists nothing, so it requires nothing: name at least one scope, or write `#[requires]` to \
             require authentication alone"
        };
        problems.push(syn::Error::new(name.span(), message));
    }
    Ok(if written == "any" { Term::Any(name.span(), elements) } else { Term::All(name.span(), elements) })
}

/// `rule(Type)`, whose name has been read.
fn parse_rule(name: &Ident, input: ParseStream) -> syn::Result<Term> {
    let expected = "expected `rule(Type)`, naming a type that implements `scopes_runtime::enforcement::Rule`, e.g. \
                    `rule(ItemOwner)`";
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(name.span(), expected));
    }
    let content;
    parenthesized!(content in input);
    let path: syn::Path = content.parse().map_err(|error| syn::Error::new(error.span(), expected))?;
    if !content.is_empty() {
        return Err(syn::Error::new(content.span(), "`rule(...)` names one rule type"));
    }
    Ok(Term::Rule(path))
}

fn unknown_argument(name: &Ident) -> syn::Error {
    let written = name.to_string();
    let message = match closest(&written, ARGUMENTS.iter().copied()) {
        Some(near) => format!("unknown argument `{written}`; did you mean `{near}`? expected {FORMS}"),
        None => format!("unknown argument `{written}`; expected {FORMS}"),
    };
    syn::Error::new_spanned(name, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
        syn::parse2(tokens)
    }

    /// The expression written back, e.g. `all(me, any(items, admin))`.
    fn show(term: &Term) -> String {
        match term {
            Term::Scope(lit) => lit.value(),
            Term::Any(_, terms) => format!("any({})", terms.iter().map(show).collect::<Vec<_>>().join(", ")),
            Term::All(_, terms) => format!("all({})", terms.iter().map(show).collect::<Vec<_>>().join(", ")),
            Term::Rule(path) => format!("rule({})", quote::ToTokens::to_token_stream(path)),
        }
    }

    fn shown(args: &Args) -> Vec<String> {
        args.terms.iter().map(show).collect()
    }

    #[test]
    fn empty_arguments_require_no_scope() {
        let args = parse(quote::quote!()).unwrap();
        assert!(args.terms.is_empty() && args.problems.is_empty());
    }

    #[test]
    fn reads_scopes_with_and_without_trailing_commas() {
        assert_eq!(shown(&parse(quote::quote!(scopes = ["me", "items"])).unwrap()), ["all(me, items)"]);
        assert_eq!(shown(&parse(quote::quote!(scopes = ["me",],)).unwrap()), ["all(me)"]);
        assert_eq!(shown(&parse(quote::quote!(scopes = [])).unwrap()), ["all()"]);
    }

    #[test]
    fn reads_nested_expressions_beside_scopes() {
        let args = parse(quote::quote!(scopes = ["me"], any("items", all("admin", "audit"),))).unwrap();
        assert!(args.problems.is_empty());
        assert_eq!(shown(&args), ["all(me)", "any(items, all(admin, audit))"]);
    }

    #[test]
    fn non_literal_elements_are_problems_and_the_rest_is_kept() {
        let args = parse(quote::quote!(scopes = [me, "items", 1])).unwrap();
        assert_eq!(args.problems.len(), 2);
        assert_eq!(shown(&args), ["all(items)"]);
        let args = parse(quote::quote!(any(me, "items"))).unwrap();
        assert_eq!(args.problems.len(), 1);
        assert_eq!(shown(&args), ["any(items)"]);
    }

    #[test]
    fn empty_calls_are_problems() {
        let args = parse(quote::quote!(any(), all())).unwrap();
        let messages: Vec<String> = args.problems.iter().map(ToString::to_string).collect();
        assert!(messages[0].starts_with("`any()` lists no alternative"), "{messages:?}");
        assert!(messages[1].starts_with("`all()` lists nothing"), "{messages:?}");
    }

    #[test]
    fn a_repeated_scopes_list_is_a_problem_and_the_first_wins() {
        let args = parse(quote::quote!(scopes = ["me"], scopes = ["items"])).unwrap();
        assert_eq!(args.problems.len(), 1);
        assert_eq!(args.problems[0].to_string(), "`scopes` specified more than once");
        assert_eq!(shown(&args), ["all(me)"]);
    }

    #[test]
    fn reads_rules_beside_scopes() {
        let args = parse(quote::quote!(scopes = ["items:write"], any(rule(ItemOwner), "admin"))).unwrap();
        assert!(args.problems.is_empty());
        assert_eq!(shown(&args), ["all(items:write)", "any(rule(ItemOwner), admin)"]);
        assert!(parse(quote::quote!(rule("owner"))).is_err());
        assert!(parse(quote::quote!(rule(A, B))).is_err());
        assert!(parse(quote::quote!(rule)).is_err());
    }

    #[test]
    fn unknown_arguments_and_functions_suggest_the_near_one() {
        let error = parse(quote::quote!(scope = ["me"])).err().unwrap().to_string();
        assert!(error.starts_with("unknown argument `scope`; did you mean `scopes`?"), "{error}");
        let error = parse(quote::quote!(one_of("me"))).err().unwrap().to_string();
        assert!(error.starts_with("unknown argument `one_of`; expected"), "{error}");
        let error = parse(quote::quote!(any(alll("me")))).err().unwrap().to_string();
        assert!(error.starts_with("unknown argument `alll`; did you mean `all`?"), "{error}");
    }

    #[test]
    fn values_that_are_not_lists_are_refused() {
        for tokens in [quote::quote!(scopes = "me"), quote::quote!("me"), quote::quote!(scopes), quote::quote!(any)] {
            assert!(parse(tokens.clone()).is_err(), "{tokens}");
        }
    }
}

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
//!
//! Beside the terms, what the route asks of its token beyond scopes: `dpop = "off" | "allowed" |
//! "required"` (RFC 9449), `acr = ["...", ...]` (any of these classes) or `min_acr = "..."` (this class or
//! a stronger one), and `max_age = SECONDS` (RFC 9470).

use proc_macro2::Span;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Ident, LitStr, Token, bracketed, parenthesized};

use crate::scope_token::closest;

/// The names `#[requires]` accepts, for "unknown argument" messages.
const ARGUMENTS: &[&str] = &["scopes", "any", "all", "rule", "dpop", "acr", "min_acr", "max_age"];
const FORMS: &str = "`scopes = [\"...\"]`, `any(...)`, `all(...)`, `rule(Type)`, `dpop = \"...\"`, `acr = [\"...\"]`, \
                     `min_acr = \"...\"` or `max_age = SECONDS`";

/// `dpop`, `acr`, `min_acr` and `max_age`: what the route asks beyond scopes, each checked as it is read.
#[derive(Default)]
pub struct AssuranceArgs {
    /// `dpop = "..."`, one of the three modes.
    pub dpop: Option<LitStr>,
    /// `acr = [...]`: the keyword's span and the classes.
    pub acr: Option<(Span, Vec<LitStr>)>,
    /// `min_acr = "..."`.
    pub min_acr: Option<LitStr>,
    /// `max_age = N`, and its value in seconds.
    pub max_age: Option<(syn::LitInt, u64)>,
}

impl AssuranceArgs {
    /// The first argument's span, when any is given: where "not on a guard" points.
    pub fn first_span(&self) -> Option<Span> {
        let dpop = self.dpop.as_ref().map(LitStr::span);
        let acr = self.acr.as_ref().map(|(span, _)| *span);
        dpop.or(acr).or(self.min_acr.as_ref().map(LitStr::span)).or(self.max_age.as_ref().map(|(lit, _)| lit.span()))
    }
}

/// The DPoP modes `dpop = "..."` names.
pub const DPOP_MODES: [&str; 3] = ["off", "allowed", "required"];

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
    /// What the route asks beyond scopes.
    pub assurance: AssuranceArgs,
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
            } else if input.peek(Ident) && input.peek2(Token![=]) {
                parse_assurance(input, &mut args)?;
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

/// `dpop = "..."`, `acr = [...]`, `min_acr = "..."` or `max_age = N`, whose name is next.
fn parse_assurance(input: ParseStream, args: &mut Args) -> syn::Result<()> {
    let name: Ident = input.parse()?;
    input.parse::<Token![=]>()?;
    let problems = &mut args.problems;
    let assurance = &mut args.assurance;
    let repeated = |name: &Ident| syn::Error::new(name.span(), format!("`{name}` specified more than once"));
    match name.to_string().as_str() {
        "dpop" => {
            let expected = "expected `dpop = \"off\"`, `\"allowed\"` or `\"required\"`";
            let mode: LitStr = input.parse().map_err(|error| syn::Error::new(error.span(), expected))?;
            if !DPOP_MODES.contains(&mode.value().as_str()) {
                problems
                    .push(syn::Error::new(mode.span(), format!("unknown DPoP mode `{}`; {expected}", mode.value())));
            } else if assurance.dpop.replace(mode).is_some() {
                problems.push(repeated(&name));
            }
        }
        "acr" => {
            let classes = parse_string_list(input, problems, "acr")?;
            if classes.is_empty() {
                problems.push(syn::Error::new(
                    name.span(),
                    "`acr = []` names no class, so no token could meet it: name at least one, e.g. `acr = [\"urn:example:mfa\"]`",
                ));
            } else if assurance.acr.replace((name.span(), classes)).is_some() {
                problems.push(repeated(&name));
            }
        }
        "min_acr" => {
            let expected = "expected `min_acr = \"...\"`, naming an authentication context class";
            let class: LitStr = input.parse().map_err(|error| syn::Error::new(error.span(), expected))?;
            if class.value().is_empty() {
                problems.push(syn::Error::new(class.span(), expected));
            } else if assurance.min_acr.replace(class).is_some() {
                problems.push(repeated(&name));
            }
        }
        "max_age" => {
            let expected = "expected `max_age = SECONDS`, a whole number of seconds above 0, e.g. `max_age = 300`";
            let seconds: syn::LitInt = input.parse().map_err(|error| syn::Error::new(error.span(), expected))?;
            match seconds.base10_parse::<u64>() {
                Ok(value) if value > 0 => {
                    if assurance.max_age.replace((seconds, value)).is_some() {
                        problems.push(repeated(&name));
                    }
                }
                _ => problems.push(syn::Error::new(seconds.span(), expected)),
            }
        }
        _ => return Err(unknown_argument(&name)),
    }
    if let (Some((acr, _)), Some(min_acr)) = (&assurance.acr, &assurance.min_acr) {
        let message = "give `acr = [...]` (any of these classes) or `min_acr = \"...\"` (this class or a stronger one), \
                       not both";
        problems.push(syn::Error::new(min_acr.span().join(*acr).unwrap_or(min_acr.span()), message));
    }
    Ok(())
}

fn parse_scope_list(span: Span, input: ParseStream, problems: &mut Vec<syn::Error>) -> syn::Result<Term> {
    input.parse::<Token![=]>()?;
    let scopes = parse_string_list(input, problems, "scopes")?;
    Ok(Term::All(span, scopes.into_iter().map(Term::Scope).collect()))
}

/// `[string, ...]` after `name =`: a list of scopes, or of `acr` classes. Elements that are not string
/// literals are problems, and left out.
fn parse_string_list(input: ParseStream, problems: &mut Vec<syn::Error>, name: &str) -> syn::Result<Vec<LitStr>> {
    if !input.peek(syn::token::Bracket) {
        let what = if name == "scopes" { "scopes" } else { "classes" };
        return Err(syn::Error::new(input.span(), format!("expected a list of {what}: `{name} = [\"...\"]`")));
    }
    let content;
    bracketed!(content in input);
    let elements: Punctuated<Expr, Token![,]> = content.parse_terminated(Expr::parse, Token![,])?;
    let mut strings = Vec::new();
    for element in elements {
        match element {
            Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) => strings.push(lit),
            other => problems.push(syn::Error::new(
                other.span(),
                if name == "scopes" {
                    "expected a scope name as a string literal, e.g. `\"me\"`"
                } else {
                    "expected an authentication context class as a string literal, e.g. `\"urn:example:mfa\"`"
                },
            )),
        }
    }
    Ok(strings)
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

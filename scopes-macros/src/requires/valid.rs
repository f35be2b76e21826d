//! Checks of the requirement that need no registry, and its normal form.
//!
//! Each scope must be a valid RFC 6749 scope token, listed once per list; whether it is declared is
//! checked against the registry (`check`). The expression is then brought to disjunctive normal form (an
//! OR of ANDs), which is how it is enforced, reported in challenges and documented in OpenAPI.

use std::collections::HashSet;

use proc_macro2::Span;
use syn::LitStr;

use super::attr::{Args, Term};
use crate::ctxt::Errors;
use crate::scope_token::scope_token_problem;

/// The most alternatives, and scopes per alternative, a requirement may have once expanded: the
/// runtime's `MAX_TERMS`.
const MAX_TERMS: usize = 16;

pub fn check_args(args: &Args, errors: &mut Errors) {
    for problem in &args.problems {
        errors.push(problem.clone());
    }
    for term in &args.terms {
        check_term(term, errors);
    }
}

fn check_term(term: &Term, errors: &mut Errors) {
    let (Term::Any(_, elements) | Term::All(_, elements)) = term else { return };
    let mut seen = HashSet::new();
    for element in elements {
        match element {
            Term::Scope(lit) => {
                let name = lit.value();
                if let Some(problem) = scope_token_problem(&name) {
                    errors.error_at(lit, problem);
                } else if !seen.insert(name.clone()) {
                    errors.error_at(lit, format!("scope `{name}` is listed more than once"));
                }
            }
            nested => check_term(nested, errors),
        }
    }
}

/// The requirement in disjunctive normal form: alternatives, each a list of scopes in the order written,
/// each scope once. An alternative that contains another is left out (the smaller one is enough). Scopes
/// that failed a local check are left out, so the item still expands; the errors fail the build.
///
/// `[[]]` (one empty alternative) means authentication alone.
pub fn normal_form(args: &Args, errors: &mut Errors) -> Vec<Vec<LitStr>> {
    let expanded = expand(&Term::All(Span::call_site(), args.terms.clone()));
    let mut alternatives: Vec<Vec<LitStr>> = Vec::new();
    for candidate in &expanded {
        let names: HashSet<String> = candidate.iter().map(LitStr::value).collect();
        let contains_another = expanded.iter().any(|other| {
            let other_names: HashSet<String> = other.iter().map(LitStr::value).collect();
            other_names.is_subset(&names) && other_names.len() < names.len()
        });
        let repeated = alternatives.iter().any(|kept| kept.iter().map(LitStr::value).collect::<HashSet<_>>() == names);
        if !contains_another && !repeated {
            alternatives.push(candidate.clone());
        }
    }
    let widest = alternatives.iter().map(Vec::len).max().unwrap_or(0);
    if alternatives.len() > MAX_TERMS || widest > MAX_TERMS {
        let span = args.terms.first().map_or_else(Span::call_site, term_span);
        errors.push(syn::Error::new(
            span,
            format!(
                "this requirement expands to {} alternatives of up to {widest} scopes; at most {MAX_TERMS} of \
                 at most {MAX_TERMS} are supported: declare a broader scope in the registry that implies the others",
                alternatives.len()
            ),
        ));
        return vec![Vec::new()];
    }
    alternatives
}

fn term_span(term: &Term) -> Span {
    match term {
        Term::Scope(lit) => lit.span(),
        Term::Any(span, _) | Term::All(span, _) => *span,
    }
}

/// Every alternative the term allows, scopes in the order written, each once. Invalid scopes are
/// dropped; an empty `any()` allows nothing, an empty `all()` requires nothing (both are reported).
fn expand(term: &Term) -> Vec<Vec<LitStr>> {
    match term {
        Term::Scope(lit) if scope_token_problem(&lit.value()).is_none() => {
            // Written back plainly (a raw string becomes "..."), which is how the registry's lookup matches.
            vec![vec![LitStr::new(&lit.value(), lit.span())]]
        }
        Term::Scope(_) => vec![Vec::new()],
        Term::Any(_, elements) if elements.is_empty() => vec![Vec::new()],
        Term::Any(_, elements) => elements.iter().flat_map(expand).collect(),
        Term::All(_, elements) => elements.iter().fold(vec![Vec::new()], |prefixes, element| {
            let options = expand(element);
            let mut combined = Vec::new();
            for prefix in &prefixes {
                for option in &options {
                    let mut joined: Vec<LitStr> = prefix.clone();
                    for scope in option {
                        if !joined.iter().any(|kept| kept.value() == scope.value()) {
                            joined.push(scope.clone());
                        }
                    }
                    combined.push(joined);
                }
                // Guard against an expression that multiplies out beyond any use before it costs memory.
                if combined.len() > MAX_TERMS * MAX_TERMS {
                    return combined;
                }
            }
            combined
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normal(tokens: proc_macro2::TokenStream) -> (Vec<Vec<String>>, Vec<String>) {
        let args: Args = syn::parse2(tokens).unwrap();
        let mut errors = Errors::default();
        check_args(&args, &mut errors);
        let form = normal_form(&args, &mut errors);
        let form = form.iter().map(|alternative| alternative.iter().map(LitStr::value).collect()).collect();
        (form, errors.messages())
    }

    #[test]
    fn flat_scopes_are_one_alternative() {
        assert_eq!(normal(quote::quote!(scopes = ["me", "items"])).0, [vec!["me", "items"]]);
        assert_eq!(normal(quote::quote!()).0, [Vec::<String>::new()]);
    }

    #[test]
    fn any_and_all_multiply_out_in_the_order_written() {
        let (form, errors) = normal(quote::quote!(scopes = ["me"], any("items", all("admin", "audit"))));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(form, [vec!["me", "items"], vec!["me", "admin", "audit"]]);
    }

    #[test]
    fn redundant_alternatives_are_left_out() {
        let (form, _) = normal(quote::quote!(any("items", all("items", "admin"), "items:read")));
        assert_eq!(form, [vec!["items"], vec!["items:read"]]);
        let (form, _) = normal(quote::quote!(all(any("a", "b"), any("b", "a"))));
        assert_eq!(form, [vec!["a"], vec!["b"]]);
    }

    #[test]
    fn repeats_and_bad_tokens_are_reported() {
        let (_, errors) = normal(quote::quote!(any("me", "me", "with space")));
        assert_eq!(errors.len(), 2, "{errors:?}");
        assert!(errors[0].contains("listed more than once"), "{errors:?}");
    }

    #[test]
    fn an_expression_too_wide_is_refused() {
        let scopes: Vec<String> = (0..17).map(|i| format!("s{i}")).collect();
        let (form, errors) = normal(quote::quote!(any(#(#scopes),*)));
        assert_eq!(form, [Vec::<String>::new()]);
        assert!(errors[0].contains("expands to 17 alternatives"), "{errors:?}");
    }
}

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

/// One alternative of the normal form: all of its scopes, and the rule when it is part of it.
#[derive(Clone)]
pub struct Alternative {
    pub scopes: Vec<LitStr>,
    pub ruled: bool,
}

impl Alternative {
    fn names(&self) -> HashSet<String> {
        self.scopes.iter().map(LitStr::value).collect()
    }

    /// Whether `self` grants whenever `other` does, so `other` adds nothing: its scopes contain `self`'s,
    /// and the rule, when `self` has it, binds `other` too.
    fn is_weaker_than(&self, other: &Alternative) -> bool {
        self.names().is_subset(&other.names()) && (!self.ruled || other.ruled)
    }
}

/// The requirement in normal form, and the rule it names.
pub struct NormalForm {
    pub alternatives: Vec<Alternative>,
    /// The one rule type the expression names, if any.
    pub rule: Option<syn::Path>,
}

/// The requirement in disjunctive normal form: alternatives, each a list of scopes in the order written,
/// each scope once, and whether the rule is part of it. An alternative that another makes redundant is
/// left out. Scopes that failed a local check are left out, so the item still expands; the errors fail
/// the build. An expression naming two different rules is an error: one rule hands the handler one
/// resource.
///
/// `[[]]` (one empty alternative) means authentication alone.
pub fn normal_form(args: &Args, errors: &mut Errors) -> NormalForm {
    let rule = the_rule(&args.terms, errors);
    let expanded = expand(&Term::All(Span::call_site(), args.terms.clone()));
    let mut alternatives: Vec<Alternative> = Vec::new();
    for (index, candidate) in expanded.iter().enumerate() {
        let redundant = expanded.iter().enumerate().any(|(other_index, other)| {
            other_index != index
                && other.is_weaker_than(candidate)
                && !(candidate.is_weaker_than(other) && other_index > index)
        });
        let repeated =
            alternatives.iter().any(|kept| kept.names() == candidate.names() && kept.ruled == candidate.ruled);
        if !redundant && !repeated {
            alternatives.push(candidate.clone());
        }
    }
    let widest = alternatives.iter().map(|alternative| alternative.scopes.len()).max().unwrap_or(0);
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
        return NormalForm { alternatives: vec![Alternative { scopes: Vec::new(), ruled: false }], rule: None };
    }
    NormalForm { alternatives, rule }
}

/// The rule the expression names; a second, different one is reported on its path.
fn the_rule(terms: &[Term], errors: &mut Errors) -> Option<syn::Path> {
    fn visit(term: &Term, found: &mut Option<syn::Path>, errors: &mut Errors) {
        match term {
            Term::Rule(path) => match found {
                None => *found = Some(path.clone()),
                Some(first) if same_path(first, path) => {}
                Some(first) => errors.error_at(
                    path,
                    format!(
                        "a handler has one resource rule, and this one already names `{}`: write one rule that \
                         checks both, or split the route",
                        quote::ToTokens::to_token_stream(first)
                    ),
                ),
            },
            Term::Any(_, elements) | Term::All(_, elements) => {
                elements.iter().for_each(|element| visit(element, found, errors))
            }
            Term::Scope(_) => {}
        }
    }
    let mut found = None;
    terms.iter().for_each(|term| visit(term, &mut found, errors));
    found
}

fn same_path(a: &syn::Path, b: &syn::Path) -> bool {
    quote::ToTokens::to_token_stream(a).to_string() == quote::ToTokens::to_token_stream(b).to_string()
}

fn term_span(term: &Term) -> Span {
    match term {
        Term::Scope(lit) => lit.span(),
        Term::Any(span, _) | Term::All(span, _) => *span,
        Term::Rule(path) => syn::spanned::Spanned::span(path),
    }
}

/// Every alternative the term allows, scopes in the order written, each once. Invalid scopes are
/// dropped; an empty `any()` allows nothing, an empty `all()` requires nothing (both are reported).
fn expand(term: &Term) -> Vec<Alternative> {
    let nothing = || vec![Alternative { scopes: Vec::new(), ruled: false }];
    match term {
        Term::Scope(lit) if scope_token_problem(&lit.value()).is_none() => {
            // Written back plainly (a raw string becomes "..."), which is how the registry's lookup matches.
            vec![Alternative { scopes: vec![LitStr::new(&lit.value(), lit.span())], ruled: false }]
        }
        Term::Scope(_) => nothing(),
        Term::Rule(_) => vec![Alternative { scopes: Vec::new(), ruled: true }],
        Term::Any(_, elements) if elements.is_empty() => nothing(),
        Term::Any(_, elements) => elements.iter().flat_map(expand).collect(),
        Term::All(_, elements) => elements.iter().fold(nothing(), |prefixes, element| {
            let options = expand(element);
            let mut combined = Vec::new();
            for prefix in &prefixes {
                for option in &options {
                    let mut joined = prefix.clone();
                    for scope in &option.scopes {
                        if !joined.scopes.iter().any(|kept| kept.value() == scope.value()) {
                            joined.scopes.push(scope.clone());
                        }
                    }
                    joined.ruled |= option.ruled;
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
        let form = form
            .alternatives
            .iter()
            .map(|alternative| {
                let mut names: Vec<String> = alternative.scopes.iter().map(LitStr::value).collect();
                if alternative.ruled {
                    names.push("<rule>".to_owned());
                }
                names
            })
            .collect();
        (form, errors.messages())
    }

    #[test]
    fn a_rule_is_part_of_the_alternatives_it_appears_in() {
        let (form, errors) = normal(quote::quote!(scopes = ["items:write"], any(rule(ItemOwner), "admin")));
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(form, [vec!["items:write", "<rule>"], vec!["items:write", "admin"]]);
        // Without the rule, a scope set is not made redundant by the same set with it.
        let (form, _) = normal(quote::quote!(any(all("items", rule(ItemOwner)), "items")));
        assert_eq!(form, [vec!["items"]]);
        let (form, _) = normal(quote::quote!(any(rule(ItemOwner), all(rule(ItemOwner), "items"))));
        assert_eq!(form, [vec!["<rule>"]]);
    }

    #[test]
    fn two_different_rules_are_an_error() {
        let (_, errors) = normal(quote::quote!(any(rule(ItemOwner), rule(NoteAuthor))));
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("one resource rule"), "{errors:?}");
        let (_, errors) = normal(quote::quote!(any(rule(ItemOwner), all("admin", rule(ItemOwner)))));
        assert!(errors.is_empty(), "{errors:?}");
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

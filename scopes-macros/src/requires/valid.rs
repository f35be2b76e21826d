//! Checks of the arguments that need no registry: each scope is a string literal, a valid RFC 6749
//! scope token, and listed once. Whether it is declared is checked against the registry (`check`).

use std::collections::HashSet;

use syn::{Expr, LitStr};

use super::attr::Args;
use crate::ctxt::Errors;
use crate::scope_token::scope_token_problem;

pub fn check_args(args: &Args, errors: &mut Errors) {
    for problem in &args.problems {
        errors.push(problem.clone());
    }
    let Some(scopes) = &args.scopes else { return };
    let mut seen = HashSet::new();
    for element in &scopes.elements {
        let Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(lit), .. }) = element else {
            errors.error_at(element, "expected a scope name as a string literal, e.g. `\"me\"`");
            continue;
        };
        let name = lit.value();
        if let Some(problem) = scope_token_problem(&name) {
            errors.error_at(lit, problem);
        } else if !seen.insert(name.clone()) {
            errors.error_at(lit, format!("scope `{name}` is listed more than once"));
        }
    }
}

/// The scopes that passed every local check, in the order written, each once.
pub fn well_formed_scopes(args: &Args) -> Vec<LitStr> {
    let mut seen = HashSet::new();
    let Some(scopes) = &args.scopes else { return Vec::new() };
    scopes
        .literals()
        .filter(|lit| scope_token_problem(&lit.value()).is_none() && seen.insert(lit.value()))
        .cloned()
        .collect()
}

//! Checking a parsed `registry!`: the scheme present and not empty (the token URL too, when given), every scope name an RFC
//! 6749 scope token declared once, every implication naming another declared scope, and no cycle; then the
//! hierarchy closed. All problems are collected (`Errors`), so one build reports them all.

use std::collections::HashSet;

use syn::LitStr;

use super::parse::{Declaration, Declared, SHAPE};
use crate::ctxt::Errors;
use crate::scope_token::{closest, list, scope_token_problem};

/// A declaration that passed every check, and its hierarchy: for each scope in declaration order, the
/// scopes it implies and those implying it, transitively, as indices.
pub(super) struct Checked<'a> {
    pub(super) scheme: &'a LitStr,
    /// `None` in a crate that only verifies tokens issued elsewhere.
    pub(super) token_url: Option<&'a LitStr>,
    pub(super) hierarchy: Vec<(Vec<usize>, Vec<usize>)>,
}

/// The declaration checked, or every problem found in it.
pub(super) fn checked(declaration: &Declaration) -> Result<Checked<'_>, Errors> {
    let mut errors = Errors::default();
    for problem in &declaration.problems {
        errors.push(problem.clone());
    }
    let missing = |key: &str| syn::Error::new(proc_macro2::Span::call_site(), format!("missing `{key}`; {SHAPE}"));
    let Some(scheme) = &declaration.scheme else {
        errors.push(missing("scheme"));
        return Err(errors);
    };
    let token_url = declaration.token_url.as_ref();
    for (value, what) in [(Some(scheme), "scheme name"), (token_url, "token URL")] {
        let Some(value) = value else { continue };
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
        return Err(errors);
    }
    let hierarchy = hierarchy(scopes, &mut errors);
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Checked { scheme, token_url, hierarchy })
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

//! Recognizing this crate's attributes on items it reads: `#[requires]` and `#[public]`, written bare or
//! through the runtime or this crate. Below both the handler's reading (`requires::ast`) and the file scan
//! for enclosing impls (`enclosing`), which each need it.

use syn::Attribute;

/// The attribute paths that mark a handler's access; a handler carries exactly one.
pub fn is_access_attribute(attr: &Attribute, name: &str) -> bool {
    let segments: Vec<String> = attr.path().segments.iter().map(|s| s.ident.to_string()).collect();
    segments.last().is_some_and(|last| last == name)
        && (segments.len() == 1
            || segments.len() == 2 && ["scopes_runtime", "scopes_macros"].contains(&segments[0].as_str()))
}

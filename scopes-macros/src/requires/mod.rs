//! `#[requires(...)]`: parse the arguments and the item, check them, generate the extractor code.

pub(crate) mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro2::TokenStream;
use quote::quote;

use crate::ctxt::Errors;

pub fn expand(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let args = match syn::parse2::<attr::Args>(args) {
        Ok(args) => args,
        Err(error) => {
            errors.push(error);
            attr::Args::default()
        }
    };
    valid::check_args(&args, &mut errors);

    let target = match ast::Target::from_item(item.clone()) {
        Ok(target) => target,
        Err(error) => {
            // The item is unusable as a target: report it, and leave in its place something the rest of the
            // crate accepts (an inert handler for a function, the item as written otherwise), so one mistake
            // does not become a cascade of unrelated errors in the router that routes it.
            errors.push(error);
            let krate = crate::krate::tokens(args.krate.as_ref());
            return crate::fallback::requires_target(errors.to_compile_errors(), item, &krate);
        }
    };

    // Argument errors still expand the item, with the scopes that were well-formed, so the handler keeps
    // its extractor and the router using it compiles; the build fails on the reported errors alone.
    let form = valid::normal_form(&args, &mut errors);
    let krate = crate::krate::tokens(args.krate.as_ref());
    let expanded = expand::expand(&target, &form, &args.assurance, &krate, &mut errors);
    let compile_errors = errors.to_compile_errors();
    quote! { #compile_errors #expanded }
}

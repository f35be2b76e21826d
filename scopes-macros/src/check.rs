//! The compile-time lookup of a handler's scopes in the registry.
//!
//! `#[requires]` cannot see the registry (a macro sees only its own input), so it calls the
//! `__scopes_registry!` macro that `registry!` defined at the crate root; that macro calls this one with
//! both lists. The required strings keep the spans of the user's attribute, so an unknown scope is
//! reported on the string itself.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token, bracketed};

use crate::ctxt::Errors;
use crate::scope_token::{closest, list};

struct CheckInput {
    declared: Vec<LitStr>,
    required: Vec<LitStr>,
}

mod kw {
    syn::custom_keyword!(declared);
    syn::custom_keyword!(required);
}

impl Parse for CheckInput {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        input.parse::<kw::declared>()?;
        input.parse::<Token![=]>()?;
        let content;
        bracketed!(content in input);
        let declared = content.parse_terminated(<LitStr as Parse>::parse, Token![,])?.into_iter().collect();
        input.parse::<Token![,]>()?;
        input.parse::<kw::required>()?;
        input.parse::<Token![=]>()?;
        let content;
        bracketed!(content in input);
        let mut required = Vec::new();
        while !content.is_empty() {
            required.push(content.parse()?);
        }
        Ok(CheckInput { declared, required })
    }
}

pub fn expand(input: TokenStream) -> TokenStream {
    let input = match syn::parse2::<CheckInput>(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let declared: Vec<String> = input.declared.iter().map(LitStr::value).collect();
    let mut errors = Errors::default();
    for scope in &input.required {
        let name = scope.value();
        if declared.contains(&name) {
            continue;
        }
        let hint = match closest(&name, declared.iter().map(String::as_str)) {
            Some(near) => format!("did you mean `{near}`? "),
            None => String::new(),
        };
        errors.error_at(scope, format!("unknown scope `{name}`; {hint}declared scopes are {}", list(&declared)));
    }
    errors.to_compile_errors()
}

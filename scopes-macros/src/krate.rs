//! `crate = path`: where the runtime crate is, for an app that renamed its dependency (as serde's
//! `#[serde(crate = "...")]`). Generated code names the runtime through it; `::scopes_runtime` by default.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote};
use syn::parse::ParseStream;
use syn::{LitStr, Path, Token};

/// Whether `input` starts with `crate =`.
pub fn peek(input: ParseStream) -> bool {
    input.peek(Token![crate]) && input.peek2(Token![=])
}

/// `crate = path` or `crate = "path"`, the `crate` keyword first.
pub fn parse(input: ParseStream) -> syn::Result<Path> {
    input.parse::<Token![crate]>()?;
    input.parse::<Token![=]>()?;
    if input.peek(LitStr) {
        let quoted: LitStr = input.parse()?;
        return quoted
            .parse::<Path>()
            .map_err(|_| syn::Error::new(quoted.span(), "expected a path to the scopes runtime, such as `my_scopes`"));
    }
    input.parse::<Path>()
}

/// `tokens` with every token at `span`, so an error about code built from them lands there.
pub fn respanned(tokens: &TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut token| {
            token.set_span(span);
            token
        })
        .collect()
}

/// The runtime's path as generated code writes it.
pub fn tokens(path: Option<&Path>) -> TokenStream {
    match path {
        Some(path) => path.to_token_stream(),
        None => quote!(::scopes_runtime),
    }
}

//! Collects every error of one macro invocation, so a user fixing three mistakes sees three messages in
//! one build (serde_derive's `Ctxt`).

use proc_macro2::TokenStream;
use quote::ToTokens;
use std::fmt::Display;

#[derive(Default)]
pub struct Errors {
    errors: Vec<syn::Error>,
}

impl Errors {
    pub fn error_at(&mut self, node: impl ToTokens, message: impl Display) {
        self.errors.push(syn::Error::new_spanned(node, message));
    }

    pub fn push(&mut self, error: syn::Error) {
        self.errors.push(error);
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    /// The collected errors as `compile_error!` invocations; empty when there are none.
    pub fn to_compile_errors(&self) -> TokenStream {
        self.errors.iter().map(syn::Error::to_compile_error).collect()
    }
}

#[cfg(test)]
impl Errors {
    pub fn messages(&self) -> Vec<String> {
        self.errors.iter().map(ToString::to_string).collect()
    }
}

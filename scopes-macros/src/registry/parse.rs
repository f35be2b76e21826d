//! Reading `registry!`'s input: the scheme, the token URL, the optional state and renamed crate, and each
//! scope with its description and what it implies. Every key is read once; problems that leave the rest
//! readable are kept for the check, so that one build reports them all.

use syn::parse::{Parse, ParseStream};
use syn::{Ident, LitStr, Token, braced, bracketed};

use crate::scope_token::closest;

const KEYS: &[&str] = &["scheme", "token_url", "scopes", "state"];
pub(super) const SHAPE: &str = "expected `scheme = \"...\", scopes = { \"name\" => \"description\", ... }` (a scope \
                     may add `implies [\"other\", ...]`), and optionally `token_url = \"...\"` (where the app's own \
                     token endpoint is served) and `state = AppState`";

/// One scope as declared: `"name" => "description"`, optionally `implies ["other", ...]`.
pub(crate) struct Declared {
    pub(crate) name: LitStr,
    pub(crate) description: LitStr,
    pub(crate) implies: Vec<LitStr>,
}

mod kw {
    syn::custom_keyword!(implies);
}

#[derive(Default)]
pub(crate) struct Declaration {
    pub(crate) scheme: Option<LitStr>,
    pub(crate) token_url: Option<LitStr>,
    pub(crate) scopes: Option<Vec<Declared>>,
    /// `state = Type`: the app's state, which every `#[requires]` handler of the crate is then checked
    /// against where it is declared.
    pub(crate) state: Option<syn::Type>,
    /// `crate = path`: the runtime under another name.
    pub(crate) krate: Option<syn::Path>,
    pub(crate) problems: Vec<syn::Error>,
}

impl Parse for Declaration {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut declaration = Declaration::default();
        while !input.is_empty() {
            if crate::krate::peek(input) {
                let span = input.span();
                if declaration.krate.replace(crate::krate::parse(input)?).is_some() {
                    declaration.problems.push(syn::Error::new(span, "`crate` specified more than once"));
                }
                if input.is_empty() {
                    break;
                }
                input.parse::<Token![,]>()?;
                continue;
            }
            let key: Ident = input.parse().map_err(|e| syn::Error::new(e.span(), SHAPE))?;
            input.parse::<Token![=]>()?;
            let repeated = || syn::Error::new_spanned(&key, format!("`{key}` specified more than once"));
            match key.to_string().as_str() {
                "scheme" => {
                    let value = input.parse()?;
                    if declaration.scheme.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                "token_url" => {
                    let value = input.parse()?;
                    if declaration.token_url.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                "state" => {
                    let value = input.parse()?;
                    if declaration.state.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                "scopes" => {
                    let value = parse_scopes(input)?;
                    if declaration.scopes.replace(value).is_some() {
                        declaration.problems.push(repeated());
                    }
                }
                other => {
                    let hint = closest(other, KEYS.iter().copied())
                        .map(|k| format!("did you mean `{k}`? "))
                        .unwrap_or_default();
                    return Err(syn::Error::new_spanned(&key, format!("unknown key `{other}`; {hint}{SHAPE}")));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(declaration)
    }
}

fn parse_scopes(input: ParseStream) -> syn::Result<Vec<Declared>> {
    let content;
    braced!(content in input);
    let mut scopes = Vec::new();
    while !content.is_empty() {
        let name: LitStr = content
            .parse()
            .map_err(|e| syn::Error::new(e.span(), "expected a scope name as a string literal: `\"me\" => \"...\"`"))?;
        content.parse::<Token![=>]>()?;
        let description: LitStr = content.parse().map_err(|e| {
            syn::Error::new(e.span(), format!("expected the description of `{}` as a string literal", name.value()))
        })?;
        let mut implies = Vec::new();
        if content.peek(kw::implies) {
            content.parse::<kw::implies>()?;
            if !content.peek(syn::token::Bracket) {
                return Err(content.error("expected the implied scopes in brackets: `implies [\"items\"]`"));
            }
            let list;
            bracketed!(list in content);
            implies = list
                .parse_terminated(<LitStr as Parse>::parse, Token![,])
                .map_err(|e| {
                    syn::Error::new(e.span(), "expected the implied scopes as string literals: `implies [\"items\"]`")
                })?
                .into_iter()
                .collect();
        } else if !content.is_empty() && !content.peek(Token![,]) {
            return Err(content
                .error(format!("expected `,` or `implies [\"...\"]` after the description of `{}`", name.value())));
        }
        scopes.push(Declared { name, description, implies });
        if content.is_empty() {
            break;
        }
        content.parse::<Token![,]>()?;
    }
    Ok(scopes)
}

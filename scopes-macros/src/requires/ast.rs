//! The item `#[requires]` is put on: a handler (an `async fn`) or a guard (`impl Guard<State> for T`).
//! Each variant keeps the original syn nodes so code generation and errors can point at them.

use proc_macro2::TokenStream;
use proc_macro2::TokenTree;
use syn::{Attribute, FnArg, GenericArgument, Item, ItemFn, ItemImpl, LitStr, PatType, PathArguments, Type};

pub enum Target {
    Handler(Handler),
    Guard(GuardImpl),
}

pub struct Handler {
    pub item: ItemFn,
    /// The first parameter, which receives the authorized principal.
    pub principal: PatType,
    /// The `operation_id` of a `#[utoipa::path]` below `#[requires]`, when it names one.
    pub operation_id: Option<LitStr>,
}

pub struct GuardImpl {
    pub item: ItemImpl,
    /// The `State` of `impl Guard<State> for T`.
    pub state: Type,
}

const WHERE_IT_GOES: &str =
    "`#[requires]` goes on an `async fn` handler, or on an `impl Guard<State> for T` block that declares a guard";

impl Target {
    pub fn from_item(item: TokenStream) -> syn::Result<Target> {
        let parsed: Item = syn::parse2(item.clone()).map_err(|_| syn::Error::new_spanned(&item, WHERE_IT_GOES))?;
        match parsed {
            Item::Fn(item) => Handler::from_fn(item).map(Target::Handler),
            Item::Impl(item) => GuardImpl::from_impl(item).map(Target::Guard),
            other => Err(syn::Error::new_spanned(item_keyword(&other), WHERE_IT_GOES)),
        }
    }
}

impl Handler {
    fn from_fn(item: ItemFn) -> syn::Result<Handler> {
        let name = &item.sig.ident;
        if item.sig.asyncness.is_none() {
            return Err(syn::Error::new_spanned(
                item.sig.fn_token,
                format!("`#[requires]` handlers must be `async fn`: make it `async fn {name}`"),
            ));
        }
        match item.sig.inputs.first() {
            Some(FnArg::Typed(principal)) => {
                let principal = principal.clone();
                let operation_id = utoipa_operation_id(&item.attrs)?;
                Ok(Handler { item, principal, operation_id })
            }
            Some(FnArg::Receiver(receiver)) => Err(syn::Error::new_spanned(
                receiver,
                "`#[requires]` hands the authorized principal to the handler's first parameter, which cannot be `self`",
            )),
            None => Err(syn::Error::new(
                item.sig.paren_token.span.join(),
                format!(
                    "`#[requires]` hands the authorized principal to the handler's first parameter, but `{name}` \
                     has none; add one, e.g. `user: User` (or `_: User` when the handler does not use it)"
                ),
            )),
        }
    }
}

impl GuardImpl {
    fn from_impl(item: ItemImpl) -> syn::Result<GuardImpl> {
        let expected = "`#[requires]` on an impl block declares a guard: expected `impl Guard<State> for T`";
        let Some((None, path, _)) = &item.trait_ else {
            return Err(syn::Error::new_spanned(item.impl_token, expected));
        };
        let Some(last) = path.segments.last().filter(|segment| segment.ident == "Guard") else {
            return Err(syn::Error::new_spanned(path, expected));
        };
        let state = match &last.arguments {
            PathArguments::AngleBracketed(args) if args.args.len() == 1 => match args.args.first() {
                Some(GenericArgument::Type(state)) => state.clone(),
                _ => return Err(syn::Error::new_spanned(&last.arguments, expected)),
            },
            _ => return Err(syn::Error::new_spanned(last, expected)),
        };
        if let Some(param) = item.generics.type_params().next() {
            return Err(syn::Error::new_spanned(
                param,
                "a guard is implemented for the application's state type, not a generic one: \
                 write `impl Guard<AppState> for T`",
            ));
        }
        Ok(GuardImpl { item, state })
    }
}

/// The leading keyword of an item, where "this is not the right kind of item" is best reported.
fn item_keyword(item: &Item) -> TokenStream {
    use quote::ToTokens;
    match item {
        Item::Struct(i) => i.struct_token.into_token_stream(),
        Item::Enum(i) => i.enum_token.into_token_stream(),
        Item::Const(i) => i.const_token.into_token_stream(),
        Item::Static(i) => i.static_token.into_token_stream(),
        Item::Mod(i) => i.mod_token.into_token_stream(),
        Item::Trait(i) => i.trait_token.into_token_stream(),
        Item::Type(i) => i.type_token.into_token_stream(),
        Item::Use(i) => i.use_token.into_token_stream(),
        other => other.into_token_stream(),
    }
}

/// The operation id a `#[utoipa::path(..., operation_id = "...")]` on the handler gives it. The OpenAPI
/// document links the handler's security to its operation by this id (the function name by default).
fn utoipa_operation_id(attrs: &[Attribute]) -> syn::Result<Option<LitStr>> {
    let is_utoipa_path = |attr: &&Attribute| {
        let segments: Vec<String> = attr.path().segments.iter().map(|s| s.ident.to_string()).collect();
        segments == ["utoipa", "path"]
    };
    let Some(attr) = attrs.iter().find(is_utoipa_path) else { return Ok(None) };
    let syn::Meta::List(list) = &attr.meta else { return Ok(None) };
    let tokens: Vec<TokenTree> = list.tokens.clone().into_iter().collect();
    for window in tokens.windows(3) {
        let [TokenTree::Ident(key), TokenTree::Punct(eq), value] = window else { continue };
        if key != "operation_id" || eq.as_char() != '=' {
            continue;
        }
        return match syn::parse2::<LitStr>(value.clone().into()) {
            Ok(id) => Ok(Some(id)),
            Err(_) => Err(syn::Error::new_spanned(
                value,
                "with `#[requires]`, write `operation_id` as a string literal: the OpenAPI document links the \
                 handler's security to its operation by this id",
            )),
        };
    }
    Ok(None)
}

//! The item `#[requires]` is put on: a handler (an `async fn`) or a guard (`impl Guard<State> for T`).
//! Each variant keeps the original syn nodes so code generation and errors can point at them.

use proc_macro2::TokenStream;
use syn::{FnArg, GenericArgument, Item, ItemFn, ItemImpl, PatType, PathArguments, Type};

pub enum Target {
    Handler(Handler),
    Guard(GuardImpl),
}

pub struct Handler {
    pub item: ItemFn,
    /// The first parameter, which receives the authorized principal.
    pub principal: PatType,
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
                Ok(Handler { item, principal })
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

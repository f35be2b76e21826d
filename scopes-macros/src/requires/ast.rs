//! The item `#[requires]` (or `#[public]`) is put on: a handler (an `async fn`) or, for `#[requires]`, a
//! guard (`impl Guard<State> for T`). Each variant keeps the original syn nodes so code generation and
//! errors can point at them.
//!
//! A handler's body is kept as tokens, never parsed: the macro runs once per handler, and parsing every
//! body would be most of its cost.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, FnArg, GenericArgument, Item, ItemImpl, PatType, PathArguments, Signature, Type, Visibility};

use crate::attributes::is_access_attribute;

pub enum Target {
    Handler(Handler),
    Guard(GuardImpl),
}

/// An `fn` item with its body left unparsed.
pub struct HandlerFn {
    pub attrs: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub body: TokenStream,
}

impl Parse for HandlerFn {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let sig = input.parse()?;
        if !input.peek(syn::token::Brace) {
            return Err(input.error("expected the function's body"));
        }
        Ok(HandlerFn { attrs, vis, sig, body: input.parse()? })
    }
}

impl ToTokens for HandlerFn {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        tokens.extend(self.attrs.iter().map(ToTokens::to_token_stream));
        self.vis.to_tokens(tokens);
        self.sig.to_tokens(tokens);
        self.body.to_tokens(tokens);
    }
}

pub struct Handler {
    pub item: HandlerFn,
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
        if let Ok(function) = syn::parse2::<HandlerFn>(item.clone()) {
            return Handler::from_fn(function).map(Target::Handler);
        }
        match syn::parse2::<Item>(item.clone()) {
            Ok(Item::Impl(item)) => GuardImpl::from_impl(item).map(Target::Guard),
            Ok(other) => Err(syn::Error::new_spanned(item_keyword(&other), WHERE_IT_GOES)),
            Err(_) => Err(syn::Error::new_spanned(&item, WHERE_IT_GOES)),
        }
    }
}

/// Checks what `#[requires]` and `#[public]` both demand of a handler: `async`, not already marked with
/// the other attribute.
pub fn check_handler(item: &HandlerFn, this: &str, other: &str) -> syn::Result<()> {
    let name = &item.sig.ident;
    if item.sig.asyncness.is_none() {
        return Err(syn::Error::new_spanned(
            item.sig.fn_token,
            format!("`#[{this}]` handlers must be `async fn`: make it `async fn {name}`"),
        ));
    }
    if let Some(attr) = item.attrs.iter().find(|attr| is_access_attribute(attr, other)) {
        return Err(syn::Error::new_spanned(
            attr,
            format!(
                "`{name}` is marked both `#[{this}]` and `#[{other}]`: a handler is either guarded by `#[requires]` \
                 or public, not both"
            ),
        ));
    }
    Ok(())
}

impl Handler {
    fn from_fn(item: HandlerFn) -> syn::Result<Handler> {
        check_handler(&item, "requires", "public")?;
        let name = &item.sig.ident;
        match item.sig.inputs.first() {
            Some(FnArg::Typed(principal)) => {
                if let Some(extractor) = axum_extractor(&principal.ty) {
                    let principals = item.sig.inputs.iter().skip(1).filter_map(|input| match input {
                        FnArg::Typed(typed) if axum_extractor(&typed.ty).is_none() => Some(typed),
                        _ => None,
                    });
                    let hint = match principals.last() {
                        Some(later) => format!("move `{}: {}` to the front", tidy(&later.pat), tidy(&later.ty)),
                        None => "add the principal (e.g. `user: User`) before it".to_owned(),
                    };
                    return Err(syn::Error::new_spanned(
                        &principal.ty,
                        format!(
                            "the principal must be the first parameter: `#[requires]` hands the authorized principal to \
                             it, and `{extractor}` is an axum extractor; {hint}, and keep the other extractors after it"
                        ),
                    ));
                }
                if let Some(self_ty) = crate::enclosing::inherent_impl_of(name) {
                    return Err(syn::Error::new_spanned(
                        name,
                        format!(
                            "`#[requires]` cannot guard `{name}`, an associated function of `impl {self_ty}`: the extractor \
                             it generates is a type of its own, which an impl block cannot hold; make `{name}` a free \
                             function (in a module of its own if you want the namespace, e.g. `mod {module} {{ ... }}`, \
                             routed as `{module}::{name}`)",
                            module = snake(&self_ty),
                        ),
                    ));
                }
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

/// Extractors axum provides, which a newcomer may put first; a principal or guard is never one of them.
const AXUM_EXTRACTORS: &[&str] = &[
    "Path",
    "Query",
    "Json",
    "Form",
    "State",
    "Extension",
    "HeaderMap",
    "Request",
    "Bytes",
    "String",
    "Method",
    "Uri",
    "ConnectInfo",
    "OriginalUri",
    "RawQuery",
    "RawForm",
    "MatchedPath",
    "Multipart",
    "TypedHeader",
    "Host",
    "Version",
    "Body",
    "WebSocketUpgrade",
    "NestedPath",
    "RawPathParams",
];

/// The name of `ty` when it is one of axum's extractors (`Path<u32>`, `axum::Json<T>`...).
fn axum_extractor(ty: &syn::Type) -> Option<String> {
    let syn::Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let name = last.ident.to_string();
    AXUM_EXTRACTORS.contains(&name.as_str()).then(|| tidy(ty))
}

/// `NoteApi` as a module name: `note_api`.
fn snake(type_name: &str) -> String {
    let base = type_name.split('<').next().and_then(|path| path.rsplit("::").next()).unwrap_or(type_name);
    let mut snake = String::new();
    for (index, c) in base.chars().enumerate() {
        if c.is_uppercase() {
            if index > 0 {
                snake.push('_');
            }
            snake.extend(c.to_lowercase());
        } else {
            snake.push(c);
        }
    }
    snake
}

/// `tokens` as a person writes them: no space inside `<...>`, `(...)` or paths.
fn tidy(tokens: &impl ToTokens) -> String {
    let written = tokens.to_token_stream().to_string();
    let mut tidy = written.clone();
    for (spaced, tight) in [
        (" <", "<"),
        ("< ", "<"),
        (" >", ">"),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
        (" ::", "::"),
        (":: ", "::"),
        (" ,", ","),
    ] {
        tidy = tidy.replace(spaced, tight);
    }
    tidy
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
pub fn item_keyword(item: &Item) -> TokenStream {
    match item {
        Item::Struct(i) => i.struct_token.into_token_stream(),
        Item::Enum(i) => i.enum_token.into_token_stream(),
        Item::Const(i) => i.const_token.into_token_stream(),
        Item::Static(i) => i.static_token.into_token_stream(),
        Item::Mod(i) => i.mod_token.into_token_stream(),
        Item::Trait(i) => i.trait_token.into_token_stream(),
        Item::Type(i) => i.type_token.into_token_stream(),
        Item::Use(i) => i.use_token.into_token_stream(),
        Item::Impl(i) => i.impl_token.into_token_stream(),
        other => other.into_token_stream(),
    }
}

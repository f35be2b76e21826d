//! Items of one's own: `POST /items/`, `GET` and `DELETE /items/{item_id}`, `GET /items/`. Who may read or
//! delete an item is a resource rule, [`ItemOwner`], declared on each handler beside its scopes: the owner,
//! or whoever holds `admin`. Anyone else is answered 404, exactly as a missing item is, so that an item's
//! existence is not disclosed.

pub mod store;

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use scopes_runtime::answering::ValidationIssue;
use scopes_runtime::enforcement::{Checked, ListRule, Listing, Rule, Visible};
use scopes_runtime::openapi::{ErrorDetail, ValidationErrorBody};
use scopes_runtime::registry::scope;
use scopes_runtime::{AuthError, Claims, Principal, requires};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::AppState;
use crate::users::User;

/// An item and its owner (the username, or the provider token's `sub`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Item {
    pub item_id: String,
    pub owner: String,
}

/// `POST /items/`'s body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewItem {
    /// 1 to 64 of `A-Z a-z 0-9 _ - .`.
    #[schema(pattern = r"^[A-Za-z0-9_.\-]{1,64}$", min_length = 1, max_length = 64)]
    pub item_id: String,
}

/// The longest item ID.
pub const MAX_ITEM_ID: usize = 64;

/// Whether `item_id` is one an item can have: 1 to 64 of `A-Z a-z 0-9 _ - .`.
pub fn is_item_id(item_id: &str) -> bool {
    (1..=MAX_ITEM_ID).contains(&item_id.len())
        && item_id.bytes().all(|byte| byte.is_ascii_alphanumeric() || matches!(byte, b'_' | b'-' | b'.'))
}

/// Only the item's owner: the resource rule of `GET` and `DELETE /items/{item_id}` and of `GET /items/`.
pub struct ItemOwner;

impl Rule<AppState> for ItemOwner {
    const NAME: &'static str = "owner";
    const DESCRIPTION: &'static str =
        "The caller owns the item: its `owner` is the caller's username (the token's `sub`).";
    const NOT_FOUND: &'static str = "Item not found";
    const PATH_PARAMS: &'static [&'static str] = &["item_id"];
    type Principal = User;
    type Params = String;
    type Resource = Item;

    async fn load(item_id: String, state: &AppState) -> Result<Option<Item>, AuthError> {
        // An ID no item can have names none: not worth a query.
        if !is_item_id(&item_id) {
            return Ok(None);
        }
        Ok(state.items.find(&item_id).await?)
    }

    fn permits(user: &User, item: &Item) -> bool {
        item.owner == user.username
    }
}

impl ListRule<AppState> for ItemOwner {
    async fn list(listing: Listing<'_, User>, state: &AppState) -> Result<Vec<Item>, AuthError> {
        let owner = match listing {
            Listing::All => None,
            Listing::PermittedTo(user) => Some(user.username.as_str()),
        };
        Ok(state.items.list(owner).await?)
    }
}

/// `POST /items/`: a new item, owned by the caller; requires `items:write`. An ID that exists (anyone's)
/// is 409, and nothing is stored on any refusal.
#[requires(scopes = ["items:write"])]
#[utoipa::path(
    post,
    path = "/items/",
    summary = "Create Item",
    request_body = NewItem,
    responses(
        (status = 201, description = "Created; `Location` names the item", body = Item,
            headers(("Location" = String, description = "`/items/{item_id}`"))),
        (status = 409, description = "An item with this ID exists", body = ErrorDetail),
        (status = 422, description = "Validation Error (in the RFC style, 400 `invalid_request`)", body = ValidationErrorBody),
    )
)]
pub async fn create_item(
    user: User,
    State(state): State<AppState>,
    body: Result<Json<serde_json::Value>, JsonRejection>,
) -> Response {
    let item_id = match body.map_err(|rejection| malformed_body(&rejection)).and_then(|Json(body)| item_id_of(body)) {
        Ok(item_id) => item_id,
        Err(refusal) => return state.authority.refuse(&refusal),
    };
    match state.items.create(&item_id, &user.username).await {
        Ok(true) => {
            let location = format!("/items/{item_id}");
            let item = Item { item_id, owner: user.username };
            (StatusCode::CREATED, [(header::LOCATION, location)], Json(item)).into_response()
        }
        Ok(false) => state
            .authority
            .refuse(&AuthError::Rejected { status: StatusCode::CONFLICT, detail: "Item already exists".into() }),
        Err(error) => state.authority.refuse(&error.into()),
    }
}

/// The `item_id` of a [`NewItem`] body, or what is wrong with it, as FastAPI (pydantic) reports it.
fn item_id_of(body: serde_json::Value) -> Result<String, AuthError> {
    use serde_json::Value;
    let Value::Object(mut fields) = body else {
        return Err(problem(
            "model_attributes_type",
            &["body"],
            "Input should be a valid dictionary",
            Value::Null,
            None,
        ));
    };
    match fields.remove("item_id") {
        None => Err(problem("missing", &["body", "item_id"], "Field required", Value::Null, None)),
        Some(Value::String(item_id)) if is_item_id(&item_id) => Ok(item_id),
        Some(Value::String(item_id)) => {
            // A long ID is echoed cut, not whole.
            let input = Value::String(item_id.chars().take(MAX_ITEM_ID + 1).collect());
            let msg = format!("String should be 1 to {MAX_ITEM_ID} of A-Z a-z 0-9 _ - .");
            let ctx = serde_json::json!({ "pattern": r"^[A-Za-z0-9_.\-]{1,64}$" });
            Err(problem("string_pattern_mismatch", &["body", "item_id"], &msg, input, Some(ctx)))
        }
        Some(_) => {
            Err(problem("string_type", &["body", "item_id"], "Input should be a valid string", Value::Null, None))
        }
    }
}

fn malformed_body(rejection: &JsonRejection) -> AuthError {
    let (kind, msg) = match rejection {
        JsonRejection::MissingJsonContentType(_) => ("model_attributes_type", "Input should be a valid dictionary"),
        _ => ("json_invalid", "JSON decode error"),
    };
    problem(kind, &["body"], msg, serde_json::Value::Null, None)
}

/// One validation problem at `loc`, refused as a malformed body (422 in the seed style, 400 in the RFC's).
fn problem(
    kind: &'static str,
    loc: &[&str],
    msg: &str,
    input: serde_json::Value,
    ctx: Option<serde_json::Value>,
) -> AuthError {
    let loc = loc.iter().map(|part| (*part).to_owned()).collect();
    AuthError::InvalidForm(vec![ValidationIssue { kind, loc, msg: msg.to_owned(), input, ctx }])
}

/// `GET /items/{item_id}`: requires `items`, and the owner or `admin`.
#[requires(scopes = ["items"], any(rule(ItemOwner), "admin"))]
#[utoipa::path(
    get,
    path = "/items/{item_id}",
    summary = "Read Item",
    params(("item_id" = String, Path, description = "The item's ID")),
    responses((status = 200, description = "Successful Response", body = Item))
)]
pub async fn read_item(_user: User, item: Checked<Item>) -> Json<Item> {
    Json(item.into_inner())
}

/// A user, and whether the request's token holds `admin` (within what the account still allows): what a
/// handler that checks a scope in code needs its principal to carry, as `read_item_by_hand` does. The
/// cheapest way by hand: one flag, asked once. (To ask several scopes later, keep a `registry::Granted`.)
pub struct UserOrAdmin {
    pub user: User,
    pub admin: bool,
}

impl Principal<AppState> for UserOrAdmin {
    async fn from_claims(claims: &Claims, state: &AppState) -> Result<Self, AuthError> {
        let user = User::from_claims(claims, state).await?;
        const ADMIN: scopes_runtime::Scope = scope!("admin");
        let admin =
            ADMIN.is_held_by(&claims.scopes) && user.allowed_scopes().is_none_or(|allowed| ADMIN.is_held_by(allowed));
        Ok(UserOrAdmin { user, admin })
    }

    fn allowed_scopes(&self) -> Option<&[String]> {
        self.user.allowed_scopes()
    }
}

/// The check `read_item`'s rule declares, written by hand in the handler instead, as it had to be before
/// resource rules: loaded, compared, `admin` asked in code, refused as missing. Not routed: kept as the
/// baseline `benches/guard.rs` measures the rule against, and to show what the rule replaces.
#[doc(hidden)]
#[requires(scopes = ["items"])]
pub async fn read_item_by_hand(
    caller: UserOrAdmin,
    State(state): State<AppState>,
    Path(item_id): Path<String>,
) -> Response {
    // Loaded as the rule loads it (an ID no item can have is not looked up); the check is the handler's.
    match ItemOwner::load(item_id, &state).await {
        Ok(Some(item)) if item.owner == caller.user.username || caller.admin => Json(item).into_response(),
        Ok(_) => state.authority.refuse(&AuthError::NotFound { detail: ItemOwner::NOT_FOUND }),
        Err(error) => state.authority.refuse(&error),
    }
}

/// `DELETE /items/{item_id}`: requires `items:write`, and the owner or `admin`. Of simultaneous deletes of
/// one item, the one that deletes it is 204; the others find it gone, 404.
#[requires(scopes = ["items:write"], any(rule(ItemOwner), "admin"))]
#[utoipa::path(
    delete,
    path = "/items/{item_id}",
    summary = "Delete Item",
    params(("item_id" = String, Path, description = "The item's ID")),
    responses((status = 204, description = "Deleted"))
)]
pub async fn delete_item(_user: User, State(state): State<AppState>, item: Checked<Item>) -> Response {
    match state.items.delete(&item.item_id).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => state.authority.refuse(&AuthError::NotFound { detail: ItemOwner::NOT_FOUND }),
        Err(error) => state.authority.refuse(&error.into()),
    }
}

/// `GET /items/`: requires `items`; the caller's items, every item for `admin`, sorted by ID.
#[requires(scopes = ["items"], any(rule(ItemOwner), "admin"))]
#[utoipa::path(
    get,
    path = "/items/",
    summary = "List Items",
    responses((status = 200, description = "Successful Response", body = Vec<Item>))
)]
pub async fn list_items(_user: User, items: Visible<Item>) -> Json<Vec<Item>> {
    Json(items.into_inner())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kind_of(body: serde_json::Value) -> Result<String, &'static str> {
        match item_id_of(body) {
            Ok(item_id) => Ok(item_id),
            Err(AuthError::InvalidForm(issues)) => Err(issues[0].kind),
            Err(_) => Err("another error"),
        }
    }

    #[test]
    fn a_body_names_one_valid_item_id_or_says_what_is_wrong() {
        assert_eq!(kind_of(json!({ "item_id": "a-B_9.z", "extra": 1 })), Ok("a-B_9.z".to_owned()));
        assert_eq!(kind_of(json!({ "item_id": "x".repeat(64) })), Ok("x".repeat(64)));
        assert_eq!(kind_of(json!({})), Err("missing"));
        assert_eq!(kind_of(json!({ "item_id": 7 })), Err("string_type"));
        assert_eq!(kind_of(json!({ "item_id": null })), Err("string_type"));
        for wrong in ["", "has space", "a/b", "é", "x".repeat(65).as_str()] {
            assert_eq!(kind_of(json!({ "item_id": wrong })), Err("string_pattern_mismatch"), "{wrong:?}");
        }
        assert_eq!(kind_of(json!(["item_id"])), Err("model_attributes_type"));
    }

    #[test]
    fn a_long_id_is_echoed_cut() {
        let Err(AuthError::InvalidForm(issues)) = item_id_of(json!({ "item_id": "y".repeat(10_000) })) else {
            panic!("refused")
        };
        assert_eq!(issues[0].input.as_str().map(str::len), Some(MAX_ITEM_ID + 1));
    }
}

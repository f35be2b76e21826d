//! From a verified token to a user, and the guard every `/users/me` endpoint builds on.

use scopes_runtime::{AccountStore, AuthError, Claims, Guard, Principal, requires};

use crate::AppState;
use crate::users::User;

/// The seed's `get_current_user`: the token's `sub` must name a known user, looked up in the store on
/// every request (so a change made with `demo users` shows at once); a store that cannot answer is 503.
/// Disabled users pass. Beyond the seed: a token issued before the account was made (its name removed and
/// given to someone else since) is refused, and the token's scopes count only as far as the account still
/// allows them (a scope revoked with `demo users revoke` stops working at once).
///
/// With an identity provider, the user is who the token says: `username` is `sub`, `full_name` and
/// `email` are the `name` and `email` claims when present, and the provider vouches the account is active.
impl Principal<AppState> for User {
    async fn from_claims(claims: &Claims, state: &AppState) -> Result<Self, AuthError> {
        match state.users() {
            Some(users) => {
                let account = users.find(&claims.sub).await?.ok_or_else(AuthError::invalid_token)?;
                account.admits(claims)?;
                Ok(User::from(account))
            }
            None => Ok(User {
                username: claims.sub.clone(),
                // A claim of another type than the OpenID Connect standard's is left out, not an error.
                email: claims.claim::<String>("email").ok().flatten(),
                full_name: claims.claim::<String>("name").ok().flatten(),
                disabled: Some(false),
                account: None,
            }),
        }
    }

    fn allowed_scopes(&self) -> Option<&[String]> {
        self.account.as_ref().map(|account| account.allowed_scopes.as_slice())
    }
}

/// The seed's `get_current_active_user`: requires `me`, and refuses disabled users with 400.
pub struct ActiveUser(pub User);

#[requires(scopes = ["me"])]
impl Guard<AppState> for ActiveUser {
    type Inner = User;

    async fn check(user: User, _state: &AppState) -> Result<Self, AuthError> {
        if user.disabled == Some(true) {
            return Err(AuthError::InactiveUser);
        }
        Ok(ActiveUser(user))
    }
}

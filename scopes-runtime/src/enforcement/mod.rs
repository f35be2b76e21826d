//! Enforcement: how a request becomes an authorized principal. The app's [`Principal`] loader at the bottom,
//! its [`Guard`]s layered on top, each [`Authorize`]d against the requirement that grows on the way down;
//! the resource [`Rule`]s decided once the scopes are met; each decision recorded (`decision`); and the seals
//! that keep authorization to those two.

mod binding;
pub(crate) mod decision;
pub(crate) mod guard;
pub(crate) mod rule;
pub(crate) mod sealing;
mod step_up;

#[doc(hidden)]
pub use guard::{AuthorityIn, RequiresHandler, RuledHandler};
pub use guard::{Authorize, Guard, Principal};
pub use rule::{Checked, GrantedBy, ListRule, Listing, Refusal, Rule, Visible};

//! Plain types of the auth domain, validated when they are made.

mod email;
pub mod password;
mod user;

pub use email::Email;
pub use password::Password;
pub use user::{Roles, User};

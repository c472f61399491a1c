//! Plain types of the auth domain, validated when they are made.

mod device;
mod email;
pub mod password;
mod user;

pub use device::UserCode;
pub use email::Email;
pub use password::Password;
pub use user::{Roles, User};

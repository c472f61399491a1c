//! TV sign-in, the device flow of RFC 8628 (§3.1–3.5). A device asks for a pair of codes,
//! shows the short user code and the web app's page, and polls with the long device code;
//! the viewer, signed in on a phone or computer, enters the user code there. The device's
//! first poll after that gets a session of its own (a new refresh family), once.
//!
//! The device code is 256 random bits stored as SHA-256, like a refresh token. The user code
//! is short enough to type, so guessing it is throttled per account and per address, and it
//! only works for `device.code_ttl_secs`.

use std::net::IpAddr;

use ottr_proto::auth::v1 as pb;
use ottr_runtime::token::Caller;

use super::AuthApi;
use crate::{
    AuthError,
    domain::UserCode,
    sessions::{hash, random_secret},
    store::{
        devices::{self, Decision, Polled},
        refresh,
    },
};

/// Draws of a user code before giving up; with 20^8 codes even one collision is rare.
const MAX_DRAWS: usize = 5;

impl AuthApi {
    pub(super) async fn start_device(&self, address: Option<IpAddr>) -> Result<pb::DeviceAuthorization, AuthError> {
        self.throttle.reserve_device_code(address).await?;
        devices::purge_expired(&self.pool).await?;
        let expires_in = self.device.code_ttl_secs.max(1);
        let interval = self.device.interval_secs.max(1);
        let (device_code, device_code_hash) = random_secret()?;
        for _ in 0..MAX_DRAWS {
            let user_code = UserCode::generate()?;
            if devices::insert(&self.pool, &device_code_hash, &user_code, expires_in, interval).await? {
                let verification_uri = self.device.verification_uri().to_owned();
                let joiner = if verification_uri.contains('?') { '&' } else { '?' };
                let shown = user_code.display();
                return Ok(pb::DeviceAuthorization {
                    device_code,
                    verification_uri_complete: format!("{verification_uri}{joiner}code={shown}"),
                    verification_uri,
                    user_code: shown,
                    expires_in,
                    interval,
                });
            }
        }
        Err(AuthError::NoFreeUserCode)
    }

    /// The viewer's answer. Every entry is counted before the lookup, and given back when
    /// the code was a real one, so only guesses add up.
    pub(super) async fn decide_device(
        &self,
        caller: &Caller,
        address: Option<IpAddr>,
        body: pb::ApproveDeviceRequest,
    ) -> Result<(), AuthError> {
        self.throttle.reserve_user_code(caller.user_id, address).await?;
        let Some(code) = UserCode::parse(&body.user_code) else {
            return Err(AuthError::InvalidUserCode);
        };
        let approved = !body.deny;
        let decided = devices::decide(&self.pool, &code, caller.user_id, caller.session_id, approved).await;
        if !matches!(decided, Ok(Decision::Unknown)) {
            self.throttle.user_code_matched(caller.user_id, address).await;
        }
        match decided? {
            Decision::Recorded => {
                tracing::info!(user_id = %caller.user_id, approved, "device sign-in decided");
                Ok(())
            }
            Decision::Expired => Err(AuthError::ExpiredToken),
            Decision::Unknown => Err(AuthError::InvalidUserCode),
        }
    }

    /// One poll, decided under the sign-in's row lock, so two polls racing cannot both
    /// get the session: the first deletes the row, the second finds nothing.
    pub(super) async fn poll_device(&self, device_code: &str) -> Result<pb::Session, AuthError> {
        let mut tx = self.pool.begin().await?;
        let (id, user_id, session) = match devices::poll(&mut tx, &hash(device_code)).await? {
            Polled::Unknown => return Err(AuthError::InvalidDeviceCode),
            Polled::Expired => return Err(AuthError::ExpiredToken),
            Polled::Denied => return Err(AuthError::AccessDenied),
            Polled::Pending => {
                tx.commit().await?;
                return Err(AuthError::AuthorizationPending);
            }
            Polled::TooSoon { interval_secs } => {
                tx.commit().await?;
                return Err(AuthError::SlowDown { interval_secs });
            }
            Polled::Approved { id, user_id, session } => (id, user_id, session),
        };
        // The approval holds only while the session that gave it does: a viewer who signs
        // out everywhere, or changes a stolen password, takes back what it approved.
        if let Some(session) = session
            && !refresh::is_live(&mut tx, session).await?
        {
            devices::delete(&mut tx, id).await?;
            tx.commit().await?;
            return Err(AuthError::AccessDenied);
        }
        devices::delete(&mut tx, id).await?;
        let opened = self.sessions.open(&mut tx, user_id, None).await?;
        tx.commit().await?;
        tracing::info!(%user_id, "device signed in");
        self.sessions.issue(opened).await
    }
}

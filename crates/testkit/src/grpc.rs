//! What every gRPC test does: sign in, send a bearer token, read the stable error code.

use ottr_proto::auth::v1::{LoginRequest, auth_service_client::AuthServiceClient};
use tonic::{Request, transport::Channel};

/// Signs `email` in through the auth service and returns the access token.
pub async fn login(auth: &mut AuthServiceClient<Channel>, email: &str, password: &str) -> String {
    let request = LoginRequest { email: email.into(), password: password.into() };
    auth.login(request).await.expect("the account signs in").into_inner().access_token
}

/// A request carrying `token` as its bearer token.
pub fn bearer<T>(message: T, token: &str) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert("authorization", format!("Bearer {token}").parse().expect("tokens are ASCII"));
    request
}

/// The stable code an error carries (`ottr-error-code`), or `<none>`.
pub fn code(status: &tonic::Status) -> &str {
    status.metadata().get("ottr-error-code").and_then(|v| v.to_str().ok()).unwrap_or("<none>")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_goes_in_the_authorization_header_and_codes_come_back_out() {
        let request = bearer((), "abc.def");
        assert_eq!(request.metadata().get("authorization").unwrap(), "Bearer abc.def");
        let mut status = tonic::Status::not_found("gone");
        assert_eq!(code(&status), "<none>");
        status.metadata_mut().insert("ottr-error-code", "title_not_found".parse().unwrap());
        assert_eq!(code(&status), "title_not_found");
    }
}

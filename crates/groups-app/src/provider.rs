//! The token provider of an app's clients: it reads the app's storage when
//! it has no token, validates what it finds, and renews through the core's
//! providers.

use std::fmt;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use groups_core::auth::providers::RefreshTokenProvider;
use groups_core::auth::{
    AuthError, AuthErrorKind, AuthPoll, OAuthClient, SecretString, TokenProvider, TokenResponse,
    TokenTicket, bearer_header,
};
use groups_core::transport::{Instant, TransportError};
use groups_core::{ClientConfig, GroupsError};
use http::HeaderValue;

use crate::common::{missing_scopes, now_epoch};
use crate::storage::{TokenStorage, TokenStorageData};

type Requirements = Arc<Mutex<std::collections::BTreeMap<String, Vec<String>>>>;

/// What an [`AppTokenProvider`] needs to build its inner provider.
pub(crate) struct ProviderSource {
    pub(crate) storage: Arc<dyn TokenStorage>,
    pub(crate) requirements: Requirements,
    pub(crate) auth_config: ClientConfig,
    pub(crate) client: OAuthClient,
}

/// A login-needed error: the kind `invalid_grant` makes
/// `requires_login()` true.
fn login_needed(message: String) -> GroupsError {
    AuthError::new(AuthErrorKind::InvalidGrant, message).into()
}

/// The provider an app's Groups clients share for one resource server.
pub(crate) struct AppTokenProvider {
    resource_server: String,
    source: Arc<ProviderSource>,
    inner: Mutex<Option<Loaded>>,
}

/// The provider built from storage; `refresh` is the same one when it
/// renews with a refresh token.
#[derive(Clone)]
struct Loaded {
    provider: Arc<dyn TokenProvider>,
    refresh: Option<Arc<RefreshTokenProvider>>,
}

impl fmt::Debug for AppTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppTokenProvider")
            .field("resource_server", &self.resource_server)
            .field("loaded", &self.current().is_some())
            .finish()
    }
}

impl AppTokenProvider {
    pub(crate) fn new(resource_server: &str, source: Arc<ProviderSource>) -> Self {
        AppTokenProvider {
            resource_server: resource_server.to_owned(),
            source,
            inner: Mutex::new(None),
        }
    }

    fn current(&self) -> Option<Arc<dyn TokenProvider>> {
        self.loaded().map(|l| l.provider)
    }

    fn loaded(&self) -> Option<Loaded> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Whether storage holds another refresh token than the one `loaded`
    /// renews with (another process, or another app on the same storage,
    /// renewed and rotated it).
    fn storage_has_newer_refresh_token(&self, loaded: &Loaded) -> bool {
        let Some(p) = &loaded.refresh else {
            return false;
        };
        let Some(ours) = p.refresh_token() else {
            return false;
        };
        match self.source.storage.get_token_data(&self.resource_server) {
            Ok(Some(d)) => d
                .refresh_token
                .is_some_and(|theirs| !theirs.ct_eq(ours.expose_secret())),
            _ => false,
        }
    }

    /// Forget the current tokens: the next call reads storage again (after
    /// a login or a logout).
    pub(crate) fn reset(&self) {
        *self.inner.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Build the inner provider from storage, or say why not.
    fn load(&self, now: Instant) -> Result<Loaded, GroupsError> {
        let rs = &self.resource_server;
        let stored = self
            .source
            .storage
            .get_token_data(rs)
            .map_err(|e| GroupsError::from(AuthError::new(AuthErrorKind::Other, e.to_string())))?
            .ok_or_else(|| login_needed(format!("no tokens for {rs} in the app's storage")))?;
        let required = self
            .source
            .requirements
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(rs)
            .cloned()
            .unwrap_or_default();
        let missing = missing_scopes(&stored.scope, &required);
        if !missing.is_empty() {
            return Err(login_needed(format!(
                "the stored tokens for {rs} lack the scopes {}",
                missing.join(" ")
            )));
        }
        let epoch = now_epoch();
        let left = stored.expires_at_seconds.saturating_sub(epoch);
        let expires_at = now + Duration::from_secs(left);
        match &stored.refresh_token {
            Some(rt) => {
                let mut p = RefreshTokenProvider::new(
                    self.source.auth_config.clone(),
                    self.source.client.clone(),
                    rt.clone(),
                )
                .on_refresh(storing_hook(
                    Arc::clone(&self.source.storage),
                    stored.identity_id.clone(),
                ));
                if left > 0 {
                    p = p.initial_access_token(stored.access_token.clone(), expires_at)?;
                }
                let p = Arc::new(p);
                Ok(Loaded {
                    provider: Arc::clone(&p) as Arc<dyn TokenProvider>,
                    refresh: Some(p),
                })
            }
            None if left > 0 => Ok(Loaded {
                provider: Arc::new(ExpiringAccessTokenProvider::new(
                    rs,
                    &stored.access_token,
                    expires_at,
                )?),
                refresh: None,
            }),
            None => Err(login_needed(format!(
                "the stored access token for {rs} has expired and there is no refresh token"
            ))),
        }
    }
}

/// The hook that writes renewed tokens to `storage`, keeping `identity_id`
/// (a renewal's answer has no id_token).
pub(crate) fn storing_hook(
    storage: Arc<dyn TokenStorage>,
    identity_id: Option<String>,
) -> impl Fn(&TokenResponse) + Send + Sync + 'static {
    move |response: &TokenResponse| {
        let data = TokenStorageData::from_response(response, now_epoch(), identity_id.as_deref());
        // The hook cannot fail the call that renewed; the next run renews
        // again if the write was lost.
        let _ = storage.store_token_data(&data);
    }
}

impl TokenProvider for AppTokenProvider {
    fn poll_authorization(&self, now: Instant) -> AuthPoll {
        let inner = match self.current() {
            Some(p) => p,
            None => match self.load(now) {
                Ok(l) => {
                    let p = Arc::clone(&l.provider);
                    *self.inner.lock().unwrap_or_else(|e| e.into_inner()) = Some(l);
                    p
                }
                Err(e) => return AuthPoll::Failed(e),
            },
        };
        let poll = inner.poll_authorization(now);
        if let AuthPoll::Failed(e) = &poll {
            // A final failure (expired, refresh token revoked): read
            // storage again next time, another login may have fixed it.
            if e.auth_error().is_some_and(AuthError::requires_login) {
                self.reset();
            }
        }
        poll
    }

    fn handle_token_response(
        &self,
        ticket: TokenTicket,
        outcome: Result<http::Response<Bytes>, TransportError>,
        now: Instant,
    ) -> Result<(), GroupsError> {
        let Some(loaded) = self.loaded() else {
            return Ok(());
        };
        let result = loaded.provider.handle_token_response(ticket, outcome, now);
        if let Err(e) = &result
            && e.auth_error().is_some_and(AuthError::requires_login)
            && self.storage_has_newer_refresh_token(&loaded)
        {
            // Our refresh token was rotated away by another renewal that
            // stored its result: start again from storage instead of
            // failing the call (the exchange polls again).
            self.reset();
            return Ok(());
        }
        result
    }

    fn abandon_token_request(&self, ticket: TokenTicket) {
        if let Some(p) = self.current() {
            p.abandon_token_request(ticket);
        }
    }

    fn poll_fetch_done(&self, ticket: TokenTicket, cx: &mut Context<'_>) -> Poll<()> {
        match self.current() {
            Some(p) => p.poll_fetch_done(ticket, cx),
            // Reset meanwhile: poll again, storage is read anew.
            None => Poll::Ready(()),
        }
    }

    fn handle_rejected(&self, rejected: Option<&HeaderValue>, now: Instant) -> bool {
        self.current()
            .is_some_and(|p| p.handle_rejected(rejected, now))
    }
}

/// An access token without a refresh token: used until it expires, then
/// every call fails with a login-needed error before anything is sent
/// (globus-sdk's access-token authorizer keeps sending it).
pub(crate) struct ExpiringAccessTokenProvider {
    resource_server: String,
    header: HeaderValue,
    expires_at: Instant,
}

impl ExpiringAccessTokenProvider {
    pub(crate) fn new(
        resource_server: &str,
        token: &SecretString,
        expires_at: Instant,
    ) -> Result<Self, GroupsError> {
        Ok(ExpiringAccessTokenProvider {
            resource_server: resource_server.to_owned(),
            header: bearer_header(token.expose_secret())?,
            expires_at,
        })
    }
}

impl fmt::Debug for ExpiringAccessTokenProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpiringAccessTokenProvider")
            .field("resource_server", &self.resource_server)
            .field("token", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

impl TokenProvider for ExpiringAccessTokenProvider {
    fn poll_authorization(&self, now: Instant) -> AuthPoll {
        if now >= self.expires_at {
            return AuthPoll::Failed(login_needed(format!(
                "the access token for {} has expired and there is no refresh token to renew it \
                 (request_refresh_tokens avoids this)",
                self.resource_server
            )));
        }
        AuthPoll::Ready(Some(self.header.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expired_access_token_is_not_sent() {
        let start = Instant::ZERO;
        let p = ExpiringAccessTokenProvider::new(
            "groups.api.globus.org",
            &SecretString::new("AT-CANARY"),
            start + Duration::from_secs(10),
        )
        .unwrap();
        assert!(matches!(
            p.poll_authorization(start),
            AuthPoll::Ready(Some(_))
        ));
        let AuthPoll::Failed(e) = p.poll_authorization(start + Duration::from_secs(10)) else {
            panic!("an expired token was sent");
        };
        assert!(e.auth_error().is_some_and(AuthError::requires_login));
        assert!(!format!("{p:?} {e}").contains("AT-CANARY"));
    }
}

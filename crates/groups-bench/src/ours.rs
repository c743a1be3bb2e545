//! Our stack, built the way an application builds it: groups-hyper's
//! builder, a fixed access token, the emulator's base URL.

use std::future::Future;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use groups_core::auth::AccessTokenProvider;
use groups_core::transport::{Instant, Transport, TransportError};
use groups_hyper::{GroupsClient, HyperClientBuilder};

/// Our client against `base` (plain HTTP to loopback allowed).
pub fn client(base: &str, token: &str) -> Result<GroupsClient, String> {
    HyperClientBuilder::new()
        .base_url(base)
        .allow_plain_http_loopback(true)
        .build_with_token(token.to_owned())
        .map_err(|e| format!("building our client: {e}"))
}

/// A transport that records the request our client would send and answers
/// with a canned 200 JSON body.
#[derive(Clone)]
pub struct Recorder {
    seen: Arc<Mutex<Option<http::Request<Bytes>>>>,
    answer: Bytes,
}

impl Recorder {
    fn new(answer: Bytes) -> Self {
        Recorder {
            seen: Arc::new(Mutex::new(None)),
            answer,
        }
    }
}

impl Transport for Recorder {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> impl Future<Output = Result<http::Response<Bytes>, TransportError>> + Send {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some(request);
        }
        let response = http::Response::builder()
            .status(200)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(self.answer.clone())
            .map_err(|e| {
                TransportError::new(
                    groups_core::transport::TransportErrorKind::Other,
                    e.to_string(),
                )
            });
        std::future::ready(response)
    }

    fn sleep_until(&self, _deadline: Instant) -> impl Future<Output = ()> + Send {
        std::future::ready(())
    }

    fn now(&self) -> Instant {
        Instant::ZERO
    }
}

/// The exact request (method, URI, headers, body) our client sends for
/// `get_group(group_id)`, captured through a recording transport built with
/// the same configuration as [`client`].
pub async fn captured_get_group(
    base: &str,
    token: &str,
    group_id: &str,
    answer: Bytes,
) -> Result<http::Request<Bytes>, String> {
    let config = HyperClientBuilder::new()
        .base_url(base)
        .allow_plain_http_loopback(true)
        .build_config()
        .map_err(|e| e.to_string())?;
    let recorder = Recorder::new(answer);
    let auth = AccessTokenProvider::new(token.to_owned()).map_err(|e| e.to_string())?;
    let client = groups_core::GroupsClient::new(recorder.clone(), config, auth);
    client
        .get_group(group_id, &[])
        .await
        .map_err(|e| format!("recording get_group: {e}"))?;
    let seen = recorder
        .seen
        .lock()
        .map_err(|_| "recorder poisoned".to_owned())?
        .take();
    seen.ok_or_else(|| "our client sent nothing".to_owned())
}

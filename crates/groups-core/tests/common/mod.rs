//! Test helpers: fixtures and a refreshable token provider, beside the
//! core's shared test support (`groups_core::test_util`).
#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use groups_core::auth::{AuthPoll, TokenProvider, TokenTicket, bearer_header};
use groups_core::error::GroupsError;
use groups_core::transport::{Instant, TransportError};
use http::HeaderValue;

// The executor, the scripted transport and the response helpers are the
// core's shared test support.
#[allow(unused_imports)]
pub use groups_core::test_util::{
    Recorded, ScriptedTransport, Step, block_on, json, respond, response, with_header,
};

// ------------------------------------------------------------------ fixtures

/// One of our own hand-written fixtures in `tests/fixtures` (the shared
/// fixture set is read from `GROUPS_FIXTURES_DIR`, never copied here).
pub fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

/// A fixture of the groups-types crate.
pub fn types_fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../groups-types/fixtures")
        .join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("fixture {}: {e}", p.display()))
}

pub fn value(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

// ------------------------------------------------------------------ refreshable provider

/// A provider that fetches its token from a fake Auth endpoint through the
/// exchange (as refresh-token providers will), and invalidates on 401.
#[derive(Debug, Default)]
pub struct RefreshingProvider {
    state: Mutex<RefreshState>,
}

#[derive(Debug, Default)]
struct RefreshState {
    token: Option<String>,
    next_ticket: u64,
    in_flight: Option<u64>,
    pub fetches: u32,
    pub rejections: u32,
    pub abandoned: u32,
}

impl RefreshingProvider {
    pub fn with_token(token: &str) -> Self {
        let p = RefreshingProvider::default();
        p.state.lock().unwrap().token = Some(token.to_owned());
        p
    }
    pub fn fetches(&self) -> u32 {
        self.state.lock().unwrap().fetches
    }
    pub fn rejections(&self) -> u32 {
        self.state.lock().unwrap().rejections
    }
    pub fn abandoned(&self) -> u32 {
        self.state.lock().unwrap().abandoned
    }
    pub fn token_request_uri() -> &'static str {
        "https://auth.globus.org/v2/oauth2/token"
    }
}

impl TokenProvider for RefreshingProvider {
    fn poll_authorization(&self, now: Instant) -> AuthPoll {
        let mut st = self.state.lock().unwrap();
        if let Some(t) = &st.token {
            return AuthPoll::Ready(Some(bearer_header(t).unwrap()));
        }
        if st.in_flight.is_some() {
            return AuthPoll::WaitUntil(now + Duration::from_millis(10));
        }
        st.next_ticket += 1;
        let ticket = st.next_ticket;
        st.in_flight = Some(ticket);
        st.fetches += 1;
        let request = http::Request::post(Self::token_request_uri())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Bytes::from_static(b"grant_type=refresh_token"))
            .unwrap();
        AuthPoll::Fetch {
            ticket: TokenTicket(ticket),
            request: Box::new(request),
        }
    }

    fn handle_token_response(
        &self,
        ticket: TokenTicket,
        outcome: Result<http::Response<Bytes>, TransportError>,
        _now: Instant,
    ) -> Result<(), GroupsError> {
        let mut st = self.state.lock().unwrap();
        assert_eq!(st.in_flight, Some(ticket.0));
        st.in_flight = None;
        let response = outcome.map_err(GroupsError::from)?;
        if !response.status().is_success() {
            return Err(GroupsError::Token(format!(
                "refresh failed with {}",
                response.status()
            )));
        }
        let v: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        st.token = Some(v["access_token"].as_str().unwrap().to_owned());
        Ok(())
    }

    fn abandon_token_request(&self, ticket: TokenTicket) {
        let mut st = self.state.lock().unwrap();
        if st.in_flight == Some(ticket.0) {
            st.in_flight = None;
            st.abandoned += 1;
        }
    }

    fn handle_rejected(&self, rejected: Option<&HeaderValue>, _now: Instant) -> bool {
        let mut st = self.state.lock().unwrap();
        st.rejections += 1;
        let current = st.token.as_deref().map(|t| bearer_header(t).unwrap());
        if current.as_ref() == rejected {
            st.token = None;
        }
        true
    }
}

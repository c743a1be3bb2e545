//! Fault injection: "for the next N requests matching METHOD and PATH, misbehave".
//!
//! A [`Fault`] is plain data (serde), so the same description works through the
//! library ([`crate::Emulator::inject`]) and the control plane
//! (`POST /_emulator/faults`). Faults never apply to the control plane itself.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One fault rule: which requests it matches, how many times, and what happens to them.
///
/// JSON form (the body of `POST /_emulator/faults`, one object or an array of them):
///
/// ```json
/// {"method": "GET", "path": "/v2/groups/*", "times": 2,
///  "action": "status", "status": 429, "retry_after": 1, "delay_ms": 0}
/// ```
///
/// | key | meaning | default |
/// | --- | --- | --- |
/// | `method` | HTTP method to match (case-insensitive); absent or `"*"` = any | any |
/// | `path` | glob on the request path (no query): `*` = any run of characters except `/`, `**` = anything, `?` = one character except `/` | `"**"` |
/// | `times` | how many matching requests the rule applies to; then it is gone | `1` |
/// | `delay_ms` | wait this long before acting (with `action: "delay"` the request is then served normally) | none |
/// | `action` | `"status"`, `"html"`, `"delay"`, `"close"` or `"truncate"` (see [`FaultAction`]) | required |
///
/// Action-specific keys: `status` (u16), `retry_after` (seconds), `body` (any JSON, the
/// response body; default `{"code": "EMULATOR_FAULT", "detail": ...}`) for `"status"`;
/// `status` (default 502) for `"html"`; `truncate_to` (bytes actually sent; default
/// half the body) for `"truncate"`.
///
/// Rules are checked in the order they were injected; the first matching rule with
/// uses left is consumed.
///
/// ```
/// use groups_emulator::Fault;
/// use std::time::Duration;
///
/// let f = Fault::status(429).retry_after(1).method("POST").path("/v2/groups/*").times(2);
/// assert_eq!(f.times, 2);
/// let json = serde_json::to_value(&f).unwrap();
/// assert_eq!(json["action"], "status");
/// let back: Fault = serde_json::from_value(json).unwrap();
/// assert_eq!(back, f);
/// let _slow = Fault::delay(Duration::from_millis(200));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Fault {
    /// Method to match; `None` (or `"*"`) matches any method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// Glob over the request path.
    #[serde(default = "default_path")]
    pub path: String,
    /// Number of matching requests this rule still applies to.
    #[serde(default = "default_times")]
    pub times: u32,
    /// Delay before acting, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// What happens to a matching request.
    #[serde(flatten)]
    pub action: FaultAction,
}

fn default_path() -> String {
    "**".to_owned()
}

fn default_times() -> u32 {
    1
}

fn default_html_status() -> u16 {
    502
}

/// What a matching request gets.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
#[non_exhaustive]
pub enum FaultAction {
    /// Answer this status at once (the request is not applied), with an optional
    /// `Retry-After: <seconds>` header and an optional JSON body.
    Status {
        /// HTTP status code to answer.
        status: u16,
        /// Value of the `Retry-After` header, in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// Response body; default `{"code": "EMULATOR_FAULT", "detail": "..."}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<serde_json::Value>,
    },
    /// Answer this status at once with an HTML error page (`content-type: text/html`),
    /// as a load balancer or proxy in front of a service does when the service behind
    /// it is down (the request is not applied).
    Html {
        /// HTTP status code to answer (default 502).
        #[serde(default = "default_html_status")]
        status: u16,
    },
    /// Only wait `delay_ms`, then serve the request normally.
    Delay,
    /// Close the connection without answering (the request is not applied).
    Close,
    /// Serve the request normally (it IS applied), but send a `Content-Length` larger than
    /// the bytes that follow, then close the connection.
    Truncate {
        /// How many body bytes are actually sent; default half of the body.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        truncate_to: Option<usize>,
    },
    /// Test hook: the handler panics, which proves the server survives it and answers 500.
    #[doc(hidden)]
    Panic,
}

impl Fault {
    fn with_action(action: FaultAction) -> Self {
        Self {
            method: None,
            path: default_path(),
            times: 1,
            delay_ms: None,
            action,
        }
    }

    /// Answer `status` instead of serving the request.
    pub fn status(status: u16) -> Self {
        Self::with_action(FaultAction::Status {
            status,
            retry_after: None,
            body: None,
        })
    }

    /// Answer `status` with a load balancer's HTML error page instead of serving the
    /// request (`Fault::html(502)`: a 502 Bad Gateway page, `text/html`).
    pub fn html(status: u16) -> Self {
        Self::with_action(FaultAction::Html { status })
    }

    /// Wait `delay`, then serve the request normally.
    pub fn delay(delay: Duration) -> Self {
        Self::with_action(FaultAction::Delay).delay_by(delay)
    }

    /// Close the connection without answering.
    pub fn close() -> Self {
        Self::with_action(FaultAction::Close)
    }

    /// Serve the request but cut the body short (half of it) and close the connection.
    pub fn truncate() -> Self {
        Self::with_action(FaultAction::Truncate { truncate_to: None })
    }

    /// Test hook: make the handler panic.
    #[doc(hidden)]
    pub fn panic() -> Self {
        Self::with_action(FaultAction::Panic)
    }

    /// Match only this HTTP method.
    pub fn method(mut self, method: impl Into<String>) -> Self {
        self.method = Some(method.into());
        self
    }

    /// Match only paths matching this glob.
    pub fn path(mut self, glob: impl Into<String>) -> Self {
        self.path = glob.into();
        self
    }

    /// Apply to the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    /// Wait this long before acting.
    pub fn delay_by(mut self, delay: Duration) -> Self {
        self.delay_ms = Some(u64::try_from(delay.as_millis()).unwrap_or(u64::MAX));
        self
    }

    /// Set the `Retry-After` seconds (only meaningful for [`Fault::status`]).
    pub fn retry_after(mut self, seconds: u64) -> Self {
        if let FaultAction::Status { retry_after, .. } = &mut self.action {
            *retry_after = Some(seconds);
        }
        self
    }

    /// Set the JSON body (only meaningful for [`Fault::status`]).
    pub fn body(mut self, value: serde_json::Value) -> Self {
        if let FaultAction::Status { body, .. } = &mut self.action {
            *body = Some(value);
        }
        self
    }

    /// Set how many body bytes are sent (only meaningful for [`Fault::truncate`]).
    pub fn truncate_to(mut self, n: usize) -> Self {
        if let FaultAction::Truncate { truncate_to } = &mut self.action {
            *truncate_to = Some(n);
        }
        self
    }

    /// Check the rule is usable: a valid status code, a method that is a token, a path
    /// glob of at most [`MAX_FAULT_PATH_BYTES`] bytes (every request is matched against
    /// it) and a delay of at most [`MAX_FAULT_DELAY_MS`].
    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.path.len() > MAX_FAULT_PATH_BYTES {
            return Err(format!(
                "the path glob is {} bytes; at most {MAX_FAULT_PATH_BYTES} are allowed",
                self.path.len()
            ));
        }
        if let Some(d) = self.delay_ms
            && d > MAX_FAULT_DELAY_MS
        {
            return Err(format!(
                "delay_ms {d} is above the limit of {MAX_FAULT_DELAY_MS}"
            ));
        }
        if let FaultAction::Status { status, .. } | FaultAction::Html { status } = &self.action
            && http::StatusCode::from_u16(*status).is_err()
        {
            return Err(format!("invalid status code {status}"));
        }
        if let Some(m) = &self.method
            && m != "*"
            && http::Method::from_bytes(m.as_bytes()).is_err()
        {
            return Err(format!("invalid method {m:?}"));
        }
        Ok(())
    }

    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = match &self.method {
            None => true,
            Some(m) => m == "*" || m.eq_ignore_ascii_case(method),
        };
        method_ok && glob_match(self.path.as_bytes(), path.as_bytes())
    }
}

/// Longest path glob a fault rule sent to the control plane may have, in bytes.
pub(crate) const MAX_FAULT_PATH_BYTES: usize = 1024;
/// Longest delay a fault rule sent to the control plane may ask for (10 minutes).
pub(crate) const MAX_FAULT_DELAY_MS: u64 = 600_000;
/// Most fault rules the control plane keeps pending at once (each API request is
/// matched against the pending rules).
pub(crate) const MAX_PENDING_FAULTS: usize = 1000;

/// What the server must do for one request, taken from the table.
#[derive(Clone, Debug)]
pub(crate) struct Triggered {
    pub(crate) delay: Option<Duration>,
    pub(crate) action: FaultAction,
}

/// The pending rules.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: VecDeque<Fault>,
}

impl FaultTable {
    pub(crate) fn push(&mut self, fault: Fault) {
        if fault.times > 0 {
            self.rules.push_back(fault);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn pending(&self) -> Vec<Fault> {
        self.rules.iter().cloned().collect()
    }

    pub(crate) fn len(&self) -> usize {
        self.rules.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Consume one use of the first rule matching this request.
    pub(crate) fn take(&mut self, method: &str, path: &str) -> Option<Triggered> {
        let idx = self.rules.iter().position(|f| f.matches(method, path))?;
        let rule = &mut self.rules[idx];
        let triggered = Triggered {
            delay: rule.delay_ms.map(Duration::from_millis),
            action: rule.action.clone(),
        };
        rule.times -= 1;
        if rule.times == 0 {
            self.rules.remove(idx);
        }
        Some(triggered)
    }
}

/// Glob match: `*` any run without `/`, `**` any run, `?` one byte except `/`.
///
/// Dynamic programming over (pattern token, text position): O(pattern * text), no
/// backtracking blow-up whatever the pattern.
pub(crate) fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    #[derive(Clone, Copy)]
    enum Tok {
        Lit(u8),
        One,
        Star,
        DoubleStar,
    }
    let mut toks = Vec::with_capacity(pattern.len());
    let mut i = 0;
    while i < pattern.len() {
        match pattern[i] {
            b'*' if pattern.get(i + 1) == Some(&b'*') => {
                toks.push(Tok::DoubleStar);
                i += 2;
            }
            b'*' => {
                toks.push(Tok::Star);
                i += 1;
            }
            b'?' => {
                toks.push(Tok::One);
                i += 1;
            }
            c => {
                toks.push(Tok::Lit(c));
                i += 1;
            }
        }
    }
    // next[j]: tokens[k+1..] match text[j..]; computed from the last token backwards.
    let n = text.len();
    let mut next = vec![false; n + 1];
    next[n] = true;
    for tok in toks.iter().rev() {
        let mut cur = vec![false; n + 1];
        for j in (0..=n).rev() {
            cur[j] = match *tok {
                Tok::Lit(c) => j < n && text[j] == c && next[j + 1],
                Tok::One => j < n && text[j] != b'/' && next[j + 1],
                // Empty match, or swallow one byte and stay on this token.
                Tok::Star => next[j] || (j < n && text[j] != b'/' && cur[j + 1]),
                Tok::DoubleStar => next[j] || (j < n && cur[j + 1]),
            };
        }
        next = cur;
    }
    next[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_single_star_stays_in_segment() {
        assert!(glob_match(b"/v2/groups/*", b"/v2/groups/abc"));
        assert!(!glob_match(b"/v2/groups/*", b"/v2/groups/abc/policies"));
        assert!(glob_match(
            b"/v2/groups/*/policies",
            b"/v2/groups/abc/policies"
        ));
        assert!(glob_match(b"/v2/groups*", b"/v2/groups"));
        assert!(!glob_match(b"/v2/groups", b"/v2/groups/x"));
    }

    #[test]
    fn glob_double_star_crosses_segments() {
        assert!(glob_match(b"**", b"/v2/groups/abc/policies"));
        assert!(glob_match(b"/v2/**", b"/v2/groups/abc/policies"));
        assert!(glob_match(b"/v2/**/policies", b"/v2/groups/abc/policies"));
        assert!(!glob_match(b"/v2/**/policies", b"/v2/groups/abc"));
        assert!(glob_match(b"/v2/groups/?", b"/v2/groups/a"));
        assert!(!glob_match(b"/v2/groups/?", b"/v2/groups/ab"));
    }

    #[test]
    fn glob_pathological_pattern_terminates() {
        let p = "*".repeat(200) + "x";
        let t = "a".repeat(200);
        assert!(!glob_match(p.as_bytes(), t.as_bytes()));
    }

    #[test]
    fn table_consumes_uses_in_order() {
        let mut t = FaultTable::default();
        t.push(Fault::status(503).method("get").path("/v2/**").times(2));
        t.push(Fault::close());
        assert!(matches!(
            t.take("GET", "/v2/groups/x").map(|f| f.action),
            Some(FaultAction::Status { status: 503, .. })
        ));
        // POST does not match the first rule, falls through to the catch-all close.
        assert!(matches!(
            t.take("POST", "/v2/groups").map(|f| f.action),
            Some(FaultAction::Close)
        ));
        assert!(matches!(
            t.take("GET", "/v2/groups/x").map(|f| f.action),
            Some(FaultAction::Status { .. })
        ));
        assert!(t.take("GET", "/v2/groups/x").is_none());
        assert!(t.is_empty());
    }

    #[test]
    fn fault_json_defaults() {
        let f: Fault = serde_json::from_str(r#"{"action":"close"}"#).unwrap();
        assert_eq!(f, Fault::close());
        let f: Fault =
            serde_json::from_str(r#"{"action":"status","status":429,"retry_after":3}"#).unwrap();
        assert_eq!(f, Fault::status(429).retry_after(3));
        let f: Fault =
            serde_json::from_str(r#"{"action":"delay","delay_ms":50,"times":4}"#).unwrap();
        assert_eq!(f, Fault::delay(Duration::from_millis(50)).times(4));
        let f: Fault = serde_json::from_str(r#"{"action":"html"}"#).unwrap();
        assert_eq!(f, Fault::html(502));
        assert!(Fault::html(99).validate().is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"action":"explode"}"#).is_err());
        assert!(Fault::status(1000).validate().is_err());
        assert!(Fault::close().method("BAD METHOD").validate().is_err());
    }
}

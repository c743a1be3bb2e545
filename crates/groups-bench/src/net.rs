//! The bare HTTP side: hyper-util's pooled legacy client with no SDK on top.
//! Used as the baseline of workload 1 and for every setup step (creating
//! groups, adding members), so setup never depends on the code under test.

use std::time::Duration;

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

/// hyper-util's legacy client over plain HTTP, keep-alive, `TCP_NODELAY`.
pub type BareClient = Client<HttpConnector, Full<Bytes>>;

/// A bare client configured like the SDK transport's pool (no idle cap,
/// `TCP_NODELAY`), minus TLS, timeouts and everything else.
pub fn bare_client() -> BareClient {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    http.set_connect_timeout(Some(Duration::from_secs(10)));
    Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(usize::MAX)
        .build(http)
}

/// Send one request and read the whole body, without parsing it.
/// The one-identity `add` batch the manager's `add_member` sends, as the bare
/// client sends it: `like`'s headers (the captured get_group) plus the JSON
/// content type, POSTed to `uri` (the group's URL).
pub fn bare_add_request<B>(
    like: &Request<B>,
    uri: &http::Uri,
    identity_id: &str,
) -> Result<Request<Full<Bytes>>, String> {
    let mut b = Request::builder()
        .method(http::Method::POST)
        .uri(uri.clone());
    if let Some(h) = b.headers_mut() {
        *h = like.headers().clone();
        h.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("application/json"),
        );
    }
    let payload = format!(r#"{{"add":[{{"identity_id":"{identity_id}","role":"member"}}]}}"#);
    b.body(Full::new(Bytes::from(payload)))
        .map_err(|e| e.to_string())
}

pub async fn send_raw(
    client: &BareClient,
    request: Request<Full<Bytes>>,
) -> Result<(StatusCode, Bytes), String> {
    let response = client
        .request(request)
        .await
        .map_err(|e| format!("bare client: {e}"))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("bare client body: {e}"))?
        .to_bytes();
    Ok((status, body))
}

/// Setup helper: the Groups API through the bare client, one token.
#[derive(Clone)]
pub struct Api {
    client: BareClient,
    base: String,
    token: String,
}

impl Api {
    /// `base` with a trailing slash, e.g. `http://127.0.0.1:4321/`.
    pub fn new(base: &str, token: &str) -> Self {
        Api {
            client: bare_client(),
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
        }
    }

    /// One request; `Err` unless the status is 2xx.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Bytes, String> {
        let mut builder = Request::builder()
            .method(method.clone())
            .uri(format!("{}{}", self.base, path))
            .header(header::AUTHORIZATION, format!("Bearer {}", self.token))
            .header(header::ACCEPT, "application/json");
        let body = match body {
            Some(v) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Bytes::from(serde_json::to_vec(v).map_err(|e| e.to_string())?)
            }
            None => Bytes::new(),
        };
        let request = builder.body(Full::new(body)).map_err(|e| e.to_string())?;
        let (status, bytes) = send_raw(&self.client, request).await?;
        if !status.is_success() {
            return Err(format!(
                "{method} {path}: HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
            ));
        }
        Ok(bytes)
    }

    /// `POST /v2/groups`; the caller becomes its admin. Returns the group id.
    pub async fn create_group(&self, name: &str) -> Result<String, String> {
        let bytes = self
            .call(Method::POST, "/v2/groups", Some(&json!({ "name": name })))
            .await?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        v.get("id")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| "create_group: no id in the answer".to_owned())
    }

    /// One batch `add` of `ids` (role member); checks every id came back.
    pub async fn add_members(&self, group: &str, ids: &[String]) -> Result<(), String> {
        let items: Vec<Value> = ids
            .iter()
            .map(|id| json!({"identity_id": id, "role": "member"}))
            .collect();
        let bytes = self
            .call(
                Method::POST,
                &format!("/v2/groups/{group}"),
                Some(&json!({ "add": items })),
            )
            .await?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        let added = v.get("add").and_then(Value::as_array).map_or(0, Vec::len);
        if added != ids.len() {
            return Err(format!(
                "batch add to {group}: {added} of {} added; errors: {}",
                ids.len(),
                v.get("errors").cloned().unwrap_or(Value::Null)
            ));
        }
        Ok(())
    }

    /// `GET path`, the raw body.
    pub async fn get(&self, path: &str) -> Result<Bytes, String> {
        self.call(Method::GET, path, None).await
    }
}

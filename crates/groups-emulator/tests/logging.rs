//! One debug event per request (method, path, status, micros), never a token.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::Http;
use groups_emulator::{Emulator, Fault};
use serde_json::json;

#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn one_debug_line_per_request_without_tokens() {
    let buffer = Buffer::default();
    let writer = buffer.clone();
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::DEBUG)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();

    let secret = "s3cr3t-t0ken-value";
    let emu = Emulator::builder().start().await.unwrap();
    let http = Http::new(&emu.base_url());
    http.post("/v2/groups", secret, json!({"name": "g"})).await;
    http.get("/v2/groups/my_groups?statuses=active", secret)
        .await;
    emu.inject(Fault::close().path("/v2/preferences"));
    let _ = http
        .send_raw(http::Method::GET, "/v2/preferences", Some(secret), None)
        .await;
    emu.shutdown().await.unwrap();

    let log = String::from_utf8(buffer.0.lock().unwrap().clone()).unwrap();
    assert!(!log.contains(secret), "token leaked into the log:\n{log}");
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("groups_emulator") && l.contains(" request"))
        .collect();
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[0].contains("method=POST") && lines[0].contains("path=/v2/groups"));
    assert!(lines[0].contains("status=201") && lines[0].contains("micros="));
    assert!(
        lines[1].contains("status=200") && !lines[1].contains("statuses"),
        "no query"
    );
    assert!(lines[2].contains("status=\"closed\"") || lines[2].contains("status=closed"));
}

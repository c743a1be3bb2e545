//! Helpers shared by the app tests: an emulator with Auth clients, plain
//! HTTP/1.1 requests to it, the authorize page driven over HTTP, and a
//! command-line flow whose input the test feeds.

#![allow(dead_code, unreachable_pub)]

use std::io::{Read, Write};
use std::sync::mpsc;

use groups_app::login_flow::CommandLineLoginFlow;
use groups_core::config::BaseUrl;
use groups_emulator::Emulator;
use groups_emulator::world::Seed;
use groups_hyper::HyperClientBuilder;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub const ADA_ID: &str = "0000000a-0000-4000-8000-000000000001";
pub const ADA: &str = "ada@example.org";
pub const BOB_ID: &str = "0000000b-0000-4000-8000-000000000002";
pub const BOB: &str = "bob@example.org";
pub const NATIVE: &str = "native-app";
pub const SERVICE: &str = "svc-client";
pub const SERVICE_SECRET: &str = "svc-secret-CANARY";
pub const WEB: &str = "web-app";
pub const WEB_SECRET: &str = "web-secret-CANARY";
pub const WEB_REDIRECT: &str = "https://app.example.org/callback";

/// An emulator accepting only issued tokens and declared clients.
pub async fn strict_emulator() -> Emulator {
    let emu = Emulator::builder()
        .strict_tokens(true)
        .strict_clients(true)
        .start()
        .await
        .expect("emulator starts");
    let seed: Seed = serde_json::from_value(serde_json::json!({
        "identities": [
            {"id": ADA_ID, "username": ADA},
            {"id": BOB_ID, "username": BOB}
        ],
        "clients": [
            {"id": SERVICE, "secret": SERVICE_SECRET},
            {"id": WEB, "secret": WEB_SECRET, "redirect_uris": [WEB_REDIRECT]},
            {"id": NATIVE, "client_type": "native", "redirect_uris": ["http://127.0.0.1/"]}
        ]
    }))
    .expect("seed parses");
    emu.load_seed(seed).expect("seed loads");
    emu
}

/// Transport settings pointing Groups and Auth at the emulator.
pub fn http(emu: &Emulator) -> HyperClientBuilder {
    HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url()).expect("auth URL"))
        .allow_plain_http_loopback(true)
}

/// A plain HTTP/1.1 answer.
pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

/// One request to the emulator (`Connection: close`).
pub async fn request(emu: &Emulator, method: &str, target: &str, body: Option<&str>) -> Answer {
    let mut s = tokio::net::TcpStream::connect(emu.local_addr())
        .await
        .expect("connect");
    let mut req = format!(
        "{method} {target} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
        emu.local_addr()
    );
    if let Some(b) = body {
        req.push_str(&format!(
            "content-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\n",
            b.len()
        ));
    }
    req.push_str("\r\n");
    req.push_str(body.unwrap_or(""));
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.expect("read");
    let text = String::from_utf8(raw).expect("utf-8");
    let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

/// The path and query of a URL on the emulator.
pub fn target_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

/// The decoded value of `key` in a URL's query.
pub fn query_param(url: &str, key: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| decode(v))
    })
}

pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                out.push(u8::from_str_radix(&s[i + 1..i + 3], 16).expect("hex"));
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).expect("utf-8")
}

/// Open the authorize URL's page, check it, pick `identity` and Allow (the
/// form posts back); answers the redirect's Location.
pub async fn approve(emu: &Emulator, authorize_url: &str, identity: &str) -> String {
    let target = target_of(authorize_url);
    let page = request(emu, "GET", &target, None).await;
    assert_eq!(page.status, 200, "authorize page: {}", page.body);
    assert!(page.body.contains("name=\"decision\""), "{}", page.body);
    let query = target.split_once('?').expect("a query").1;
    let body = format!("{query}&identity={identity}&decision=allow");
    let answer = request(emu, "POST", "/v2/oauth2/authorize", Some(&body)).await;
    assert_eq!(answer.status, 302, "{}", answer.body);
    answer.header("location").expect("a Location")
}

/// The first URL in printed text.
pub fn url_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
        .map(str::to_owned)
}

/// The input side of a command-line flow: lines the test sends.
struct ChannelReader {
    rx: mpsc::Receiver<String>,
    pending: Vec<u8>,
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pending.is_empty() {
            match self.rx.recv() {
                Ok(line) => self.pending = line.into_bytes(),
                Err(_) => return Ok(0),
            }
        }
        let n = buf.len().min(self.pending.len());
        buf[..n].copy_from_slice(&self.pending[..n]);
        self.pending.drain(..n);
        Ok(n)
    }
}

/// The output side: what the flow prints, to the test.
struct ChannelWriter(tokio::sync::mpsc::UnboundedSender<String>);

impl Write for ChannelWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let _ = self.0.send(String::from_utf8_lossy(buf).into_owned());
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A command-line flow, the sender of its input lines (dropping it ends
/// the input) and the receiver of its output.
pub fn fed_flow() -> (
    CommandLineLoginFlow,
    mpsc::Sender<String>,
    tokio::sync::mpsc::UnboundedReceiver<String>,
) {
    let (in_tx, in_rx) = mpsc::channel();
    let (out_tx, out_rx) = tokio::sync::mpsc::unbounded_channel();
    let flow = CommandLineLoginFlow::with_io(
        std::io::BufReader::new(ChannelReader {
            rx: in_rx,
            pending: Vec::new(),
        }),
        ChannelWriter(out_tx),
    );
    (flow, in_tx, out_rx)
}

/// Wait for the flow to print its URL, approve it as `identity` on the
/// page, and type the code; answers the authorize URL.
pub async fn answer_prompt(
    emu: &Emulator,
    output: &mut tokio::sync::mpsc::UnboundedReceiver<String>,
    input: &mpsc::Sender<String>,
    identity: &str,
) -> String {
    let mut printed = String::new();
    let url = loop {
        let chunk = output.recv().await.expect("the flow prints its URL");
        printed.push_str(&chunk);
        if let Some(u) = url_in(&printed)
            && printed.contains("Authorization Code")
        {
            break u;
        }
    };
    let location = approve(emu, &url, identity).await;
    let code = query_param(&location, "code").expect("a code in the redirect");
    input.send(format!("{code}\n")).expect("the flow reads");
    url
}

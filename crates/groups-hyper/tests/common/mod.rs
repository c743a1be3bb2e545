//! A tiny scripted HTTP/1.1 server on 127.0.0.1 for transport tests.
//!
//! Each incoming request takes the next [`Step`] from the script; a request
//! beyond the script gets a 599 so an unexpected retry shows up as a
//! failure. The server task stops when the [`ScriptedServer`] is dropped.

#![allow(dead_code, unreachable_pub)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// What the server does with one request.
#[derive(Clone, Debug)]
pub enum Step {
    /// Write these bytes and keep the connection for the next request.
    Respond(Vec<u8>),
    /// Write these bytes, then close the connection.
    RespondAndClose(Vec<u8>),
    /// Write these bytes, then reset the connection (RST, not FIN).
    RespondAndReset(Vec<u8>),
    /// Never answer (until the server is dropped).
    Hang,
}

/// One request as the server saw it.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub request_line: String,
    pub head: String,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

struct Shared {
    script: Mutex<VecDeque<Step>>,
    requests: Mutex<Vec<Recorded>>,
    connections: AtomicUsize,
    stop: Notify,
}

pub struct ScriptedServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl ScriptedServer {
    pub async fn start(steps: impl IntoIterator<Item = Step>) -> ScriptedServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            script: Mutex::new(steps.into_iter().collect()),
            requests: Mutex::new(Vec::new()),
            connections: AtomicUsize::new(0),
            stop: Notify::new(),
        });
        let task = tokio::spawn(accept_loop(listener, shared.clone()));
        ScriptedServer { addr, shared, task }
    }

    /// `http://127.0.0.1:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The base URL, with a trailing slash.
    pub fn base(&self) -> String {
        format!("http://{}/", self.addr)
    }

    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().unwrap().clone()
    }

    pub fn remaining_steps(&self) -> usize {
        self.shared.script.lock().unwrap().len()
    }
}

impl Drop for ScriptedServer {
    fn drop(&mut self) {
        self.shared.stop.notify_waiters();
        self.task.abort();
    }
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>) {
    let mut handlers = tokio::task::JoinSet::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        handlers.spawn(serve(stream, shared.clone()));
    }
    // Dropping the JoinSet (when this task is aborted) aborts the handlers.
}

async fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Recorded> {
    let mut head = String::new();
    loop {
        let mut line = String::new();
        let n = reader.read_line(&mut line).await.ok()?;
        if n == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
        if head.len() > 64 * 1024 {
            return None;
        }
    }
    let request_line = head.lines().next().unwrap_or_default().to_string();
    let mut rec = Recorded {
        request_line,
        head,
        body: Vec::new(),
    };
    let len: usize = rec
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    rec.body = vec![0; len.min(16 * 1024 * 1024)];
    reader.read_exact(&mut rec.body).await.ok()?;
    Some(rec)
}

async fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let mut reader = BufReader::new(stream);
    while let Some(rec) = read_request(&mut reader).await {
        shared.requests.lock().unwrap().push(rec);
        let step = shared
            .script
            .lock()
            .unwrap()
            .pop_front()
            .unwrap_or_else(|| {
                Step::Respond(response(599, &[], "unexpected request beyond the script"))
            });
        match step {
            Step::Respond(bytes) => {
                if reader.get_mut().write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Step::RespondAndClose(bytes) => {
                let _ = reader.get_mut().write_all(&bytes).await;
                let _ = reader.get_mut().shutdown().await;
                return;
            }
            Step::RespondAndReset(bytes) => {
                let _ = reader.get_mut().write_all(&bytes).await;
                let _ = reader.get_mut().flush().await;
                // Give the client a moment to read what was sent before the
                // RST discards it.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = reader.get_ref().set_zero_linger();
                return;
            }
            Step::Hang => {
                shared.stop.notified().await;
                return;
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        302 => "Found",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Whatever",
    }
}

/// A complete HTTP/1.1 response with a Content-Length.
pub fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
    out.push_str(body);
    out.into_bytes()
}

/// A 200 with a JSON body.
pub fn json(status: u16, body: &str) -> Vec<u8> {
    response(status, &[("content-type", "application/json")], body)
}

/// A chunked 200 whose body is `chunks` chunks of `chunk_len` bytes.
pub fn chunked(chunks: usize, chunk_len: usize) -> Vec<u8> {
    let mut out =
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
            .to_vec();
    let chunk = vec![b'a'; chunk_len];
    for _ in 0..chunks {
        out.extend_from_slice(format!("{chunk_len:x}\r\n").as_bytes());
        out.extend_from_slice(&chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// A port on 127.0.0.1 with nothing listening.
pub async fn closed_port() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    addr
}
pub mod tls;

//! Helpers of the end-to-end app tests (browser, cross-process, canary): an
//! emulator with a native client and two people, transport settings pointing
//! at it, and the real-browser harness.

#![allow(dead_code, unreachable_pub)]

pub mod browser;

use groups_core::config::BaseUrl;
use groups_emulator::Emulator;
use groups_emulator::world::Seed;
use groups_hyper::HyperClientBuilder;

pub const ADA_ID: &str = "0000000a-0000-4000-8000-0000000000e1";
pub const ADA: &str = "ada@example.org";
pub const BOB_ID: &str = "0000000b-0000-4000-8000-0000000000e2";
pub const BOB: &str = "bob@example.org";
/// A native client whose registered redirect is loopback (any port).
pub const NATIVE: &str = "e2e-native-app";
/// A native client with a UUID id, as Globus gives them (globus-sdk's apps
/// expect one).
pub const NATIVE_UUID: &str = "5e2e0000-0000-4000-8000-00000000a991";

/// The seed: Ada, Bob and the native clients.
pub fn seed() -> Seed {
    serde_json::from_value(serde_json::json!({
        "identities": [
            {"id": ADA_ID, "username": ADA},
            {"id": BOB_ID, "username": BOB}
        ],
        "clients": [
            {"id": NATIVE, "client_type": "native", "redirect_uris": ["http://127.0.0.1/"]},
            {"id": NATIVE_UUID, "client_type": "native"}
        ]
    }))
    .expect("seed parses")
}

/// An emulator accepting only issued tokens and declared clients.
pub async fn strict_emulator() -> Emulator {
    Emulator::builder()
        .seed(seed())
        .strict_tokens(true)
        .strict_clients(true)
        .start()
        .await
        .expect("emulator starts")
}

/// Transport settings pointing Groups and Auth at the emulator.
pub fn http(emu: &Emulator) -> HyperClientBuilder {
    HyperClientBuilder::new()
        .base_url(emu.base_url())
        .auth_url(BaseUrl::parse(&emu.base_url()).expect("auth URL"))
        .allow_plain_http_loopback(true)
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> std::path::PathBuf {
    let nanos = std::time::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos());
    let dir =
        std::env::temp_dir().join(format!("groups-app-{name}-{}-{nanos}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// The value of the query parameter `name` of `url`, percent-decoded.
pub fn query_param(url: &str, name: &str) -> Option<String> {
    let q = url.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == name).then(|| {
            let b = v.as_bytes();
            let mut out = Vec::new();
            let mut i = 0;
            while i < b.len() {
                match b[i] {
                    b'%' if i + 3 <= b.len() => {
                        out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap_or(b'?'));
                        i += 3;
                    }
                    b'+' => {
                        out.push(b' ');
                        i += 1;
                    }
                    c => {
                        out.push(c);
                        i += 1;
                    }
                }
            }
            String::from_utf8_lossy(&out).into_owned()
        })
    })
}

/// The `Location` the emulator answers a plain GET of `url` with (the
/// authorize endpoint's redirect, when auto-approval is on).
pub fn redirect_of(emu: std::net::SocketAddr, url: &str) -> String {
    let target = url
        .split_once("://")
        .and_then(|(_, r)| r.find('/').map(|i| r[i..].to_owned()))
        .expect("absolute URL");
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(emu).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {emu}\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    answer
        .lines()
        .take_while(|l| !l.is_empty())
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location")
                .then(|| v.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no redirect: {answer}"))
}

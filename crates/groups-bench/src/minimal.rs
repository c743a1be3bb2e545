//! The limit of workload 4: a minimal hyper HTTP/1.1 server that answers
//! every request with one fixed JSON body (the emulator's own answer to the
//! same request, so the same size), `TCP_NODELAY` on accepted sockets, on a
//! multi-threaded Tokio runtime like the emulator's.

use std::convert::Infallible;
use std::io::Write;

use bytes::Bytes;
use http::{Response, header};
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Serve `body` on 127.0.0.1:`port` until killed; prints
/// `listening on http://127.0.0.1:PORT/` first.
pub fn serve(body: Bytes, port: u16) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let addr = listener.local_addr().map_err(|e| e.to_string())?;
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "listening on http://{addr}/");
            let _ = out.flush();
        }
        loop {
            let (stream, _) = match listener.accept().await {
                Ok(pair) => pair,
                Err(_) => continue,
            };
            let _ = stream.set_nodelay(true);
            let body = body.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_req| {
                    let body = body.clone();
                    async move {
                        Ok::<_, Infallible>(
                            Response::builder()
                                .header(header::CONTENT_TYPE, "application/json")
                                .body(Full::new(body))
                                .expect("static response parts are valid"),
                        )
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    })
}

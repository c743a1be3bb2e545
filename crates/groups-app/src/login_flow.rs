//! Login flows: how a [`UserApp`](crate::UserApp) gets an authorization
//! code from the user.
//!
//! The app prepares a [`LoginRequest`] (the authorize URL's scopes, a
//! random `state`, the PKCE challenge, the grant name
//! `"<app name> on <hostname>"`, `access_type=offline` when refresh tokens
//! are asked for, and any session requirements); a [`LoginFlow`] shows the
//! URL to the user somehow and returns the [`AuthorizationCode`]. The app
//! then exchanges the code itself, so a flow never sees a token.
//!
//! Two flows ship, and any type implementing [`LoginFlow`] can be used:
//!
//! * [`CommandLineLoginFlow`] (the default): prints the URL between dashed
//!   lines and reads the code the user pastes back. Its reader and writer
//!   can be replaced (tests feed the code through them); the end of input
//!   is an [`AppErrorKind::EndOfInput`] error.
//! * [`LocalServerLoginFlow`]: listens on `127.0.0.1` on a random port,
//!   sends the browser to the authorize URL with that server as redirect
//!   URI, checks the `state` that comes back, shows a short page saying the
//!   login is complete, and gives up after a timeout. The browser is
//!   started by a [`BrowserOpener`]: [`SystemBrowser`] by default, which
//!   refuses remote sessions (`SSH_TTY` or `SSH_CONNECTION` set) and
//!   text-only browsers as globus-sdk does; any closure
//!   `Fn(&str) -> Result<(), String>` can take its place (tests hand the
//!   URL to a headless browser that way).

use std::fmt;
use std::future::Future;
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use groups_core::auth::SecretString;
use groups_core::auth::authorize::AuthorizeUrl;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::error::{AppError, AppErrorKind};

/// The future a [`LoginFlow`] returns.
pub type LoginFuture<'a> =
    Pin<Box<dyn Future<Output = Result<AuthorizationCode, AppError>> + Send + 'a>>;

/// A way to get an authorization code from the user (see the [module
/// docs](self)).
///
/// ```
/// use groups_app::login_flow::{AuthorizationCode, LoginFlow, LoginFuture, LoginRequest};
///
/// /// A flow for a program that already knows the code (for example from
/// /// its own web page).
/// #[derive(Debug)]
/// struct KnownCode(String);
///
/// impl LoginFlow for KnownCode {
///     fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
///         Box::pin(async move {
///             let _url = request.authorize_url()?; // shown to the user somewhere
///             Ok(AuthorizationCode::new(self.0.clone(), request.redirect_uri()))
///         })
///     }
/// }
/// ```
pub trait LoginFlow: Send + Sync + fmt::Debug {
    /// Show `request`'s authorize URL to the user and return the code Auth
    /// gave back.
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a>;
}

impl<F: LoginFlow + ?Sized> LoginFlow for Arc<F> {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        (**self).run(request)
    }
}

/// What a login asks Globus Auth for, prepared by the app; a
/// [`LoginFlow`] turns it into a URL with
/// [`authorize_url`](Self::authorize_url) or
/// [`authorize_url_with_redirect`](Self::authorize_url_with_redirect).
#[derive(Clone)]
pub struct LoginRequest {
    pub(crate) url: AuthorizeUrl,
    pub(crate) state: String,
    pub(crate) redirect_uri: Option<String>,
    pub(crate) app_name: String,
    pub(crate) confidential: bool,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("app_name", &self.app_name)
            .field("redirect_uri", &self.redirect_uri)
            .field("confidential", &self.confidential)
            .finish_non_exhaustive()
    }
}

impl LoginRequest {
    /// The authorize URL with the app's redirect URI (or, without one,
    /// Globus Auth's page that shows the code to copy).
    pub fn authorize_url(&self) -> Result<String, AppError> {
        let url = match &self.redirect_uri {
            Some(r) => self.url.clone().redirect_uri(r.clone()),
            None => self.url.clone(),
        };
        url.build().map_err(|e| {
            AppError::new(AppErrorKind::Config, format!("no authorize URL: {e}")).with_source(e)
        })
    }

    /// The authorize URL with `redirect_uri` (a flow that receives the
    /// code itself, like [`LocalServerLoginFlow`]); the returned
    /// [`AuthorizationCode`] must name the same URI.
    pub fn authorize_url_with_redirect(&self, redirect_uri: &str) -> Result<String, AppError> {
        self.url
            .clone()
            .redirect_uri(redirect_uri)
            .build()
            .map_err(|e| {
                AppError::new(AppErrorKind::Config, format!("no authorize URL: {e}")).with_source(e)
            })
    }

    /// The `state` the authorize URL carries; a redirect with another one
    /// is not this login's.
    pub fn state(&self) -> &str {
        &self.state
    }

    /// The app's configured redirect URI, if any.
    pub fn redirect_uri(&self) -> Option<String> {
        self.redirect_uri.clone()
    }

    /// The app's name.
    pub fn app_name(&self) -> &str {
        &self.app_name
    }

    /// Whether the app's client is confidential (has a secret).
    pub fn is_confidential(&self) -> bool {
        self.confidential
    }
}

/// The code a [`LoginFlow`] obtained, and the redirect URI its authorize
/// URL used (`None`: the app's own, or Auth's code page). Its `Debug`
/// hides the code.
#[derive(Clone)]
pub struct AuthorizationCode {
    pub(crate) code: SecretString,
    pub(crate) redirect_uri: Option<String>,
}

impl AuthorizationCode {
    /// The code `code`, obtained through an authorize URL with
    /// `redirect_uri`.
    pub fn new(code: impl Into<SecretString>, redirect_uri: Option<String>) -> Self {
        AuthorizationCode {
            code: code.into(),
            redirect_uri,
        }
    }

    /// The redirect URI of the authorize URL.
    pub fn redirect_uri(&self) -> Option<&str> {
        self.redirect_uri.as_deref()
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthorizationCode")
            .field("code", &"<redacted>")
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

type Reader = Box<dyn BufRead + Send>;
type Writer = Box<dyn Write + Send>;

/// Prints the authorize URL and reads the code the user pastes back
/// (globus-sdk's command-line login flow).
///
/// By default it writes to standard output and reads standard input;
/// [`with_io`](Self::with_io) takes any reader and writer. Leading and
/// trailing whitespace of the line is dropped; an empty line is asked
/// again (at most three times), and the end of input is an
/// [`AppErrorKind::EndOfInput`] error.
///
/// ```
/// use groups_app::login_flow::CommandLineLoginFlow;
///
/// let flow = CommandLineLoginFlow::with_io(std::io::Cursor::new("THE-CODE\n"), std::io::sink());
/// # let _ = flow;
/// ```
pub struct CommandLineLoginFlow {
    io: Mutex<Option<(Reader, Writer)>>,
}

impl fmt::Debug for CommandLineLoginFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CommandLineLoginFlow")
            .finish_non_exhaustive()
    }
}

impl Default for CommandLineLoginFlow {
    fn default() -> Self {
        Self::new()
    }
}

impl CommandLineLoginFlow {
    /// The flow on standard input and output.
    pub fn new() -> Self {
        Self::with_io(std::io::BufReader::new(std::io::stdin()), std::io::stdout())
    }

    /// The flow reading the code from `reader` and writing the prompt to
    /// `writer`.
    pub fn with_io(
        reader: impl BufRead + Send + 'static,
        writer: impl Write + Send + 'static,
    ) -> Self {
        CommandLineLoginFlow {
            io: Mutex::new(Some((Box::new(reader), Box::new(writer)))),
        }
    }
}

const PROMPT_TRIES: usize = 3;

fn prompt_for_code(
    url: &str,
    reader: &mut Reader,
    writer: &mut Writer,
) -> Result<String, AppError> {
    let io_err = |e: std::io::Error| {
        AppError::new(
            AppErrorKind::LoginFlow,
            format!("the login prompt failed: {e}"),
        )
        .with_source(e)
    };
    let rule = "-".repeat(36);
    writeln!(
        writer,
        "Please authenticate with Globus here:\n{rule}\n{url}\n{rule}\n"
    )
    .map_err(io_err)?;
    for _ in 0..PROMPT_TRIES {
        write!(writer, "Enter the resulting Authorization Code here: ").map_err(io_err)?;
        writer.flush().map_err(io_err)?;
        let mut line = String::new();
        let n = reader.read_line(&mut line).map_err(io_err)?;
        if n == 0 {
            return Err(AppError::new(
                AppErrorKind::EndOfInput,
                "the input ended before an authorization code was entered",
            ));
        }
        let code = line.trim();
        if !code.is_empty() {
            return Ok(code.to_owned());
        }
    }
    Err(AppError::new(
        AppErrorKind::LoginFlow,
        "no authorization code was entered",
    ))
}

impl LoginFlow for CommandLineLoginFlow {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        Box::pin(async move {
            if request.confidential && request.redirect_uri.is_none() {
                return Err(AppError::new(
                    AppErrorKind::Config,
                    "a confidential client's command-line login needs a redirect URI \
                     (UserAppBuilder::redirect_uri)",
                ));
            }
            let url = request.authorize_url()?;
            let taken = self
                .io
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take()
                .ok_or_else(|| {
                    AppError::new(
                        AppErrorKind::LoginFlow,
                        "another login is reading from this flow's input",
                    )
                })?;
            // Reading standard input blocks: on a blocking thread, so the
            // runtime's other tasks go on.
            let (result, io) = tokio::task::spawn_blocking(move || {
                let (mut reader, mut writer) = taken;
                let r = prompt_for_code(&url, &mut reader, &mut writer);
                (r, (reader, writer))
            })
            .await
            .map_err(|e| {
                AppError::new(
                    AppErrorKind::LoginFlow,
                    format!("the login prompt stopped: {e}"),
                )
            })?;
            *self.io.lock().unwrap_or_else(|p| p.into_inner()) = Some(io);
            Ok(AuthorizationCode::new(result?, request.redirect_uri()))
        })
    }
}

/// Starts a browser on a URL for [`LocalServerLoginFlow`].
///
/// Any `Fn(&str) -> Result<(), String>` is one (tests pass the URL to a
/// headless browser); [`SystemBrowser`] is the default.
pub trait BrowserOpener: Send + Sync {
    /// Send the user's browser to `url`. An `Err` stops the login with
    /// its message.
    fn open(&self, url: &str) -> Result<(), AppError>;
}

impl<F: Fn(&str) -> Result<(), String> + Send + Sync> BrowserOpener for F {
    fn open(&self, url: &str) -> Result<(), AppError> {
        self(url).map_err(|why| {
            AppError::new(
                AppErrorKind::LoginFlow,
                format!("the browser could not be opened: {why}"),
            )
        })
    }
}

/// Browsers that cannot show Globus Auth's pages (globus-sdk's list).
pub const TEXT_ONLY_BROWSERS: [&str; 5] = ["lynx", "www-browser", "links", "elinks", "w3m"];

/// The system's browser, through the `webbrowser` crate.
///
/// It refuses (an [`AppErrorKind::LoginFlowUnavailable`] error) when the
/// process runs in a remote session (`SSH_TTY` or `SSH_CONNECTION` set:
/// the browser would open on the wrong machine), when `BROWSER` names a
/// text-only browser, or, on Linux and the BSDs, when there is no
/// graphical display (`DISPLAY` and `WAYLAND_DISPLAY` unset: the browser
/// would be a text-mode one).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemBrowser;

impl SystemBrowser {
    /// Why a browser cannot be used in the environment `lookup` describes
    /// (`None`: it can).
    ///
    /// ```
    /// use groups_app::login_flow::SystemBrowser;
    /// let desktop = |k: &str| match k {
    ///     "DISPLAY" => Some(":0".to_owned()),
    ///     "BROWSER" => Some("firefox".to_owned()),
    ///     _ => None,
    /// };
    /// assert!(SystemBrowser::refusal(desktop).is_none());
    /// let ssh = |k: &str| (k == "SSH_CONNECTION").then(|| "10.0.0.1 22 10.0.0.2 22".to_owned());
    /// assert!(SystemBrowser::refusal(ssh).is_some());
    /// let w3m = |k: &str| desktop(k).map(|v| if k == "BROWSER" { "/usr/bin/w3m".to_owned() } else { v });
    /// assert!(SystemBrowser::refusal(w3m).is_some());
    /// ```
    pub fn refusal(lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
        for var in ["SSH_TTY", "SSH_CONNECTION"] {
            if lookup(var).is_some_and(|v| !v.is_empty()) {
                return Some(format!(
                    "this is a remote session ({var} is set): a browser would open on \
                     another machine; use the command-line login flow"
                ));
            }
        }
        // Without a graphical display the system browser would be a
        // text-mode one (or none) on Linux and the BSDs.
        if cfg!(all(unix, not(target_os = "macos")))
            && ["DISPLAY", "WAYLAND_DISPLAY"]
                .iter()
                .all(|v| lookup(v).is_none_or(|x| x.is_empty()))
        {
            return Some(
                "no graphical display (DISPLAY and WAYLAND_DISPLAY are unset): a browser \
                 cannot show the login page here; use the command-line login flow"
                    .to_owned(),
            );
        }
        if let Some(browser) = lookup("BROWSER") {
            for candidate in browser.split(':') {
                let program = candidate.split_whitespace().next().unwrap_or("");
                let name = program.rsplit(['/', '\\']).next().unwrap_or(program);
                if TEXT_ONLY_BROWSERS.contains(&name) {
                    return Some(format!(
                        "the browser {name} is text-only and cannot show the login page; \
                         use the command-line login flow"
                    ));
                }
            }
        }
        None
    }
}

impl BrowserOpener for SystemBrowser {
    fn open(&self, url: &str) -> Result<(), AppError> {
        if let Some(why) = Self::refusal(|k| std::env::var(k).ok()) {
            return Err(AppError::new(AppErrorKind::LoginFlowUnavailable, why));
        }
        webbrowser::open(url).map_err(|e| {
            AppError::new(
                AppErrorKind::LoginFlowUnavailable,
                format!("no browser could be started ({e}); use the command-line login flow"),
            )
        })
    }
}

/// How long [`LocalServerLoginFlow`] waits for the browser by default.
pub const DEFAULT_LOGIN_TIMEOUT: Duration = Duration::from_secs(300);

/// Longest request head the local server reads.
const MAX_REQUEST_HEAD: usize = 16 * 1024;
/// How long one connection to the local server may take to send its head.
const CONNECTION_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Receives the code on a local web server (globus-sdk's local-server
/// login flow, with the `state` checked).
///
/// It binds `127.0.0.1` on a random port, uses `http://127.0.0.1:{port}/`
/// as redirect URI (the host can be changed with
/// [`redirect_host`](Self::redirect_host), e.g. to `localhost`), sends the
/// browser to the authorize URL through its [`BrowserOpener`], and waits
/// for the redirect: with a `code` and the right `state` it answers a page
/// saying the login is complete; with `error` (the user denied) it is an
/// [`AppErrorKind::LoginDenied`] error; another `state` is an
/// [`AppErrorKind::StateMismatch`] error; no answer within the timeout
/// (default five minutes) is an [`AppErrorKind::LoginTimeout`] error.
/// Requests for other paths (a browser's `favicon.ico`) get 404 and the
/// wait goes on. A confidential client cannot use it (its redirect URIs
/// are fixed), as in globus-sdk.
///
/// ```
/// use std::time::Duration;
/// use groups_app::login_flow::LocalServerLoginFlow;
///
/// // Hand the URL to a test's browser instead of starting one.
/// let flow = LocalServerLoginFlow::new()
///     .timeout(Duration::from_secs(30))
///     .browser(|url: &str| { println!("open {url}"); Ok(()) });
/// # let _ = flow;
/// ```
pub struct LocalServerLoginFlow {
    timeout: Duration,
    opener: Arc<dyn BrowserOpener>,
    redirect_host: String,
}

impl fmt::Debug for LocalServerLoginFlow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalServerLoginFlow")
            .field("timeout", &self.timeout)
            .field("redirect_host", &self.redirect_host)
            .finish_non_exhaustive()
    }
}

impl Default for LocalServerLoginFlow {
    fn default() -> Self {
        Self::new()
    }
}

impl LocalServerLoginFlow {
    /// The flow with the system browser and a five-minute timeout.
    pub fn new() -> Self {
        LocalServerLoginFlow {
            timeout: DEFAULT_LOGIN_TIMEOUT,
            opener: Arc::new(SystemBrowser),
            redirect_host: "127.0.0.1".to_owned(),
        }
    }

    /// How long to wait for the browser's redirect.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Who opens the authorize URL (default [`SystemBrowser`]).
    pub fn browser(mut self, opener: impl BrowserOpener + 'static) -> Self {
        self.opener = Arc::new(opener);
        self
    }

    /// The host name of the redirect URI (default `127.0.0.1`; the server
    /// listens on `127.0.0.1` either way).
    pub fn redirect_host(mut self, host: impl Into<String>) -> Self {
        self.redirect_host = host.into();
        self
    }
}

impl LoginFlow for LocalServerLoginFlow {
    fn run<'a>(&'a self, request: &'a LoginRequest) -> LoginFuture<'a> {
        Box::pin(async move {
            if request.confidential {
                return Err(AppError::new(
                    AppErrorKind::Config,
                    "the local-server login flow is for native clients only (a confidential \
                     client's redirect URIs are fixed); use the command-line flow",
                ));
            }
            let listener = TcpListener::bind(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 0))
                .await
                .map_err(|e| {
                    AppError::new(
                        AppErrorKind::LoginFlow,
                        format!("cannot listen on 127.0.0.1: {e}"),
                    )
                    .with_source(e)
                })?;
            let port = listener
                .local_addr()
                .map_err(|e| AppError::new(AppErrorKind::LoginFlow, format!("no local port: {e}")))?
                .port();
            let redirect = format!("http://{}:{port}/", self.redirect_host);
            let url = request.authorize_url_with_redirect(&redirect)?;
            self.opener.open(&url)?;
            let wait = serve_until_code(&listener, request);
            let code = tokio::time::timeout(self.timeout, wait)
                .await
                .map_err(|_| {
                    AppError::new(
                        AppErrorKind::LoginTimeout,
                        format!(
                            "no login arrived within {} s; log in again",
                            self.timeout.as_secs()
                        ),
                    )
                })??;
            Ok(AuthorizationCode::new(code, Some(redirect)))
        })
    }
}

/// Accept connections until one brings this login's redirect.
async fn serve_until_code(
    listener: &TcpListener,
    request: &LoginRequest,
) -> Result<SecretString, AppError> {
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| {
            AppError::new(
                AppErrorKind::LoginFlow,
                format!("the local server stopped: {e}"),
            )
        })?;
        if let Some(outcome) = handle_connection(stream, request).await {
            return outcome;
        }
    }
}

/// One connection: `None` if it was not the redirect (the wait goes on).
async fn handle_connection(
    mut stream: TcpStream,
    request: &LoginRequest,
) -> Option<Result<SecretString, AppError>> {
    let head = match tokio::time::timeout(CONNECTION_READ_TIMEOUT, read_head(&mut stream)).await {
        Ok(Some(h)) => h,
        _ => return None,
    };
    let target = head.lines().next().and_then(|l| {
        let mut parts = l.split(' ');
        match (parts.next(), parts.next()) {
            (Some("GET"), Some(t)) => Some(t.to_owned()),
            _ => None,
        }
    });
    let Some(target) = target else {
        respond(
            &mut stream,
            "405 Method Not Allowed",
            "Not allowed",
            "Only GET is served here.",
        )
        .await;
        return None;
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let params = parse_query(query);
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    if path != "/" || (get("code").is_none() && get("error").is_none()) {
        respond(&mut stream, "404 Not Found", "Not found", "Nothing here.").await;
        return None;
    }
    let state_ok = get("state").is_some_and(|s| constant_time_eq(s, &request.state));
    if !state_ok {
        respond(
            &mut stream,
            "400 Bad Request",
            "Login failed",
            "This answer is not for the login in progress (its state does not match). \
             Start the login again.",
        )
        .await;
        return Some(Err(AppError::new(
            AppErrorKind::StateMismatch,
            "the redirect's state does not match the login's: it is not this login's answer",
        )));
    }
    if let Some(error) = get("error") {
        let description = get("error_description").unwrap_or("");
        respond(
            &mut stream,
            "200 OK",
            "Login not completed",
            "The login was not completed. You can close this window.",
        )
        .await;
        let error: String = error.chars().take(100).collect();
        let description: String = description.chars().take(300).collect();
        return Some(Err(AppError::new(
            AppErrorKind::LoginDenied,
            format!("Globus Auth did not grant the login: {error} {description}")
                .trim_end()
                .to_owned(),
        )));
    }
    let code = get("code").unwrap_or_default().to_owned();
    let title = format!("{}: login complete", request.app_name);
    respond(
        &mut stream,
        "200 OK",
        &title,
        "You are logged in. You can close this window and go back to the application.",
    )
    .await;
    Some(Ok(SecretString::new(code)))
}

/// Read up to the end of the request head; `None` if the connection ends
/// first or sends too much.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return String::from_utf8(buf).ok();
        }
        if buf.len() > MAX_REQUEST_HEAD {
            return None;
        }
    }
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title></head>\
         <body style=\"font-family: sans-serif; max-width: 40em; margin: 4em auto\">\
         <h1>{t}</h1><p>{x}</p></body></html>\n",
        t = html_escape(title),
        x = html_escape(text)
    );
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `application/x-www-form-urlencoded` pairs of a query string (invalid
/// escapes are kept as they are).
pub(crate) fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s
                    .get(i + 1..i + 3)
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                match hex {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    SecretString::new(a).ct_eq(b)
}

/// The grant name globus-sdk prefills: `"<app name> on <hostname>"`, the
/// host name without a `.local` suffix.
pub(crate) fn grant_name(app_name: &str) -> String {
    let host = hostname();
    let host = host.strip_suffix(".local").unwrap_or(&host);
    format!("{app_name} on {host}")
}

fn hostname() -> String {
    #[cfg(unix)]
    {
        rustix::system::uname()
            .nodename()
            .to_string_lossy()
            .into_owned()
    }
    #[cfg(not(unix))]
    {
        std::env::var("COMPUTERNAME").unwrap_or_else(|_| "localhost".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_decode() {
        let q = parse_query("code=a%2Fb+c&state=x&bad=%zz&e=%4");
        assert_eq!(q[0], ("code".into(), "a/b c".into()));
        assert_eq!(q[1], ("state".into(), "x".into()));
        assert_eq!(q[2], ("bad".into(), "%zz".into()));
        assert_eq!(q[3], ("e".into(), "%4".into()));
    }

    #[test]
    fn grant_name_names_the_app_and_host() {
        let n = grant_name("My App");
        assert!(n.starts_with("My App on "), "{n}");
        assert!(!n.ends_with(".local"));
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(html_escape("<a&'\">"), "&lt;a&amp;&#39;&quot;&gt;");
    }
}

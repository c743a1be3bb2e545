//! Token storage: where an app keeps its tokens between runs.
//!
//! A [`TokenStorage`] holds one [`TokenStorageData`] per resource server
//! (for example `groups.api.globus.org` and `auth.globus.org`). These
//! implementations ship:
//!
//! * [`MemoryTokenStorage`]: for the life of the process;
//! * [`JsonTokenStorage`]: a JSON file in globus-sdk's format, so a file
//!   written by Python's `globus_sdk.JSONTokenStorage` is read here and the
//!   other way round;
//! * `SqliteTokenStorage` (cargo feature `sqlite`, module
//!   `sqlite_storage`): an SQLite database in the format of globus-sdk's
//!   `SQLiteTokenStorage`.
//!
//! # The JSON file
//!
//! ```json
//! {"data": {"DEFAULT": {"groups.api.globus.org": {
//!     "resource_server": "groups.api.globus.org",
//!     "identity_id": "…", "scope": "…", "access_token": "…",
//!     "refresh_token": "…", "expires_at_seconds": 1700000000,
//!     "token_type": "Bearer"}}},
//!  "format_version": "2.0",
//!  "globus-sdk.version": "…"}
//! ```
//!
//! The tokens sit under a namespace (globus-sdk's apps always use
//! `DEFAULT`). Keys absent from a token entry mean `null`, and a `null`
//! value is written as an absent key, as globus-sdk does. Version `1.0`
//! files (`{"format_version": "1.0", "by_rs": {…}}`) are read and rewritten
//! as `2.0` on the next write. Other namespaces and unknown top-level keys
//! are kept. Any other shape is a [`StorageError`] of kind
//! [`StorageErrorKind::Corrupt`] or [`StorageErrorKind::UnknownFormat`]:
//! never a panic, and never overwritten.
//!
//! # Safety of the file
//!
//! * Created with mode `0600` (owner read and write only) from the start:
//!   the file is opened with that mode, never changed afterwards.
//! * Replaced atomically: the new contents go to a temporary file in the
//!   same directory, which is flushed to disk and renamed over the old
//!   one, and the directory is flushed too. A crash at any point leaves
//!   either the old file or the new one, whole.
//! * Writers take an advisory lock (`flock`) on a lock file beside it
//!   (`tokens.json.lock`) for the whole read-modify-write, so two processes
//!   writing at once lose nothing. Readers need no lock (the rename is
//!   atomic). globus-sdk itself takes no lock and writes in place, so a
//!   Python process writing the same file at the same moment is not
//!   covered.
//!
//! ```
//! use groups_app::storage::{MemoryTokenStorage, TokenStorage, TokenStorageData};
//!
//! let storage = MemoryTokenStorage::new();
//! let data = TokenStorageData::new("groups.api.globus.org", "the-access-token", 1_700_000_000)
//!     .with_scope("urn:globus:auth:scope:groups.api.globus.org:all");
//! storage.store_token_data(&[data])?;
//! let back = storage.get_token_data("groups.api.globus.org")?.unwrap();
//! assert_eq!(back.access_token.expose_secret(), "the-access-token");
//! assert!(!format!("{back:?}").contains("the-access-token"));
//! assert!(storage.remove_token_data("groups.api.globus.org")?);
//! assert!(storage.get_token_data("groups.api.globus.org")?.is_none());
//! # Ok::<(), groups_app::storage::StorageError>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use groups_core::auth::{SecretString, TokenResponse};
use serde_json::{Map, Value};

use crate::claims;

/// The namespace globus-sdk's apps store their tokens under.
pub const DEFAULT_NAMESPACE: &str = "DEFAULT";
/// The JSON file format version written.
pub const FORMAT_VERSION: &str = "2.0";
/// The JSON file format versions read.
pub const SUPPORTED_FORMAT_VERSIONS: [&str; 2] = ["1.0", "2.0"];
/// What is written under `globus-sdk.version` (globus-sdk only checks that
/// it is a string).
pub const WRITER_VERSION: &str = concat!("groups-app/", env!("CARGO_PKG_VERSION"));

/// The tokens of one resource server, as stored (globus-sdk's
/// `TokenStorageData`).
///
/// Its `Debug` never shows the access or refresh token.
#[derive(Clone)]
#[non_exhaustive]
pub struct TokenStorageData {
    /// The resource server, e.g. `groups.api.globus.org`.
    pub resource_server: String,
    /// The identity the tokens were issued to (the id_token's `sub`), when
    /// known.
    pub identity_id: Option<String>,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// The access token.
    pub access_token: SecretString,
    /// The refresh token, when refresh tokens were requested.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, epoch seconds.
    pub expires_at_seconds: u64,
    /// The token type, normally `Bearer`.
    pub token_type: Option<String>,
    /// Keys this version does not know, kept and written back.
    pub extra: Map<String, Value>,
}

impl TokenStorageData {
    /// Token data for `resource_server` with no scope, identity, refresh
    /// token or token type (set them with the `with_` methods).
    pub fn new(
        resource_server: impl Into<String>,
        access_token: impl Into<SecretString>,
        expires_at_seconds: u64,
    ) -> Self {
        TokenStorageData {
            resource_server: resource_server.into(),
            identity_id: None,
            scope: String::new(),
            access_token: access_token.into(),
            refresh_token: None,
            expires_at_seconds,
            token_type: None,
            extra: Map::new(),
        }
    }

    /// Set the granted scopes (space-separated).
    pub fn with_scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Set the identity id.
    pub fn with_identity_id(mut self, identity_id: impl Into<String>) -> Self {
        self.identity_id = Some(identity_id.into());
        self
    }

    /// Set the refresh token.
    pub fn with_refresh_token(mut self, refresh_token: impl Into<SecretString>) -> Self {
        self.refresh_token = Some(refresh_token.into());
        self
    }

    /// Set the token type.
    pub fn with_token_type(mut self, token_type: impl Into<String>) -> Self {
        self.token_type = Some(token_type.into());
        self
    }

    /// The granted scopes, one by one.
    pub fn scopes(&self) -> impl Iterator<Item = &str> {
        self.scope.split_whitespace()
    }

    /// Whether the access token has expired at `now_epoch_seconds` (no
    /// margin, like globus-sdk's "not expired" validator).
    pub fn is_expired(&self, now_epoch_seconds: u64) -> bool {
        self.expires_at_seconds <= now_epoch_seconds
    }

    /// One entry per token of `response` (globus-sdk's
    /// `store_token_response`), with `identity_id` for all of them and the
    /// expiry computed from `received_at_epoch_seconds`.
    ///
    /// ```
    /// use groups_app::storage::TokenStorageData;
    /// use groups_core::auth::TokenResponse;
    ///
    /// let body = br#"{"access_token": "AT", "expires_in": 3600, "resource_server": "groups.api.globus.org",
    ///   "token_type": "Bearer", "scope": "urn:globus:auth:scope:groups.api.globus.org:all"}"#;
    /// let data = TokenStorageData::from_response(&TokenResponse::from_json(body).unwrap(), 1_000, None);
    /// assert_eq!(data[0].expires_at_seconds, 4_600);
    /// ```
    pub fn from_response(
        response: &TokenResponse,
        received_at_epoch_seconds: u64,
        identity_id: Option<&str>,
    ) -> Vec<TokenStorageData> {
        response
            .tokens()
            .iter()
            .map(|t| TokenStorageData {
                resource_server: t.resource_server.clone(),
                identity_id: identity_id.map(str::to_owned),
                scope: t.scope.clone(),
                access_token: t.access_token.clone(),
                refresh_token: t.refresh_token.clone(),
                expires_at_seconds: t.expires_at_seconds(received_at_epoch_seconds),
                token_type: t.token_type.clone(),
                extra: Map::new(),
            })
            .collect()
    }

    /// The JSON object globus-sdk stores (absent optional values are left
    /// out, as globus-sdk does).
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert(
            "resource_server".into(),
            self.resource_server.clone().into(),
        );
        if let Some(id) = &self.identity_id {
            m.insert("identity_id".into(), id.clone().into());
        }
        m.insert("scope".into(), self.scope.clone().into());
        m.insert(
            "access_token".into(),
            self.access_token.expose_secret().into(),
        );
        if let Some(rt) = &self.refresh_token {
            m.insert("refresh_token".into(), rt.expose_secret().into());
        }
        m.insert("expires_at_seconds".into(), self.expires_at_seconds.into());
        if let Some(tt) = &self.token_type {
            m.insert("token_type".into(), tt.clone().into());
        }
        for (k, v) in &self.extra {
            m.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Value::Object(m)
    }

    /// Read one stored entry. A missing or mistyped field is an error that
    /// names the field, never its value.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let Value::Object(m) = value else {
            return Err("token data is not an object".into());
        };
        let req_str = |k: &str| match m.get(k) {
            Some(Value::String(s)) => Ok(s.clone()),
            _ => Err(format!("token data field {k:?} is missing or not a string")),
        };
        let opt_str = |k: &str| match m.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            _ => Err(format!("token data field {k:?} is not a string")),
        };
        let expires_at_seconds = match m.get("expires_at_seconds") {
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| {
                "token data field \"expires_at_seconds\" is not a non-negative integer".to_owned()
            })?,
            _ => {
                return Err(
                    "token data field \"expires_at_seconds\" is missing or not an integer".into(),
                );
            }
        };
        const KNOWN: [&str; 7] = [
            "resource_server",
            "identity_id",
            "scope",
            "access_token",
            "refresh_token",
            "expires_at_seconds",
            "token_type",
        ];
        Ok(TokenStorageData {
            resource_server: req_str("resource_server")?,
            identity_id: opt_str("identity_id")?,
            scope: req_str("scope")?,
            access_token: SecretString::new(req_str("access_token")?),
            refresh_token: opt_str("refresh_token")?.map(SecretString::new),
            expires_at_seconds,
            token_type: opt_str("token_type")?,
            extra: m
                .iter()
                .filter(|(k, _)| !KNOWN.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        })
    }
}

impl fmt::Debug for TokenStorageData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenStorageData")
            .field("resource_server", &self.resource_server)
            .field("identity_id", &self.identity_id)
            .field("scope", &self.scope)
            .field("access_token", &"<redacted>")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expires_at_seconds", &self.expires_at_seconds)
            .field("token_type", &self.token_type)
            .field("extra_keys", &self.extra.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// What went wrong with token storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StorageErrorKind {
    /// Reading, writing, locking or creating the directory failed.
    Io,
    /// The file is not JSON, or not the shape of a token storage file.
    Corrupt,
    /// The file has a `format_version` this version cannot read.
    UnknownFormat,
    /// The app name cannot be used in a file name.
    InvalidAppName,
    /// No home directory to put the default file in.
    NoHomeDirectory,
}

/// A token storage failure. Its message names the file and the problem,
/// never a token.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StorageError {
    kind: StorageErrorKind,
    message: String,
    #[source]
    source: Option<io::Error>,
}

impl StorageError {
    pub(crate) fn new(kind: StorageErrorKind, message: impl Into<String>) -> Self {
        StorageError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn io(path: &Path, what: &str, e: io::Error) -> Self {
        StorageError {
            kind: StorageErrorKind::Io,
            message: format!("{what} {}: {e}", path.display()),
            source: Some(e),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> StorageErrorKind {
        self.kind
    }
}

/// Where an app keeps its tokens, by resource server.
///
/// Implementations are shared between clients and threads; each method
/// stands alone (no transaction across calls).
pub trait TokenStorage: Send + Sync + fmt::Debug {
    /// Store (replace) the data of each resource server in `data`.
    fn store_token_data(&self, data: &[TokenStorageData]) -> Result<(), StorageError>;

    /// Every stored entry, by resource server.
    fn get_all_token_data(&self) -> Result<BTreeMap<String, TokenStorageData>, StorageError>;

    /// The data of `resource_server`, if stored.
    fn get_token_data(
        &self,
        resource_server: &str,
    ) -> Result<Option<TokenStorageData>, StorageError> {
        Ok(self.get_all_token_data()?.remove(resource_server))
    }

    /// Remove the data of `resource_server`; `true` if there was some.
    fn remove_token_data(&self, resource_server: &str) -> Result<bool, StorageError>;

    /// Store every token of `response`, received at
    /// `received_at_epoch_seconds`, with the identity of its id_token's
    /// `sub` when it has one (globus-sdk's `store_token_response`). The
    /// id_token is decoded, not verified: it was just received from Auth
    /// over TLS.
    fn store_token_response(
        &self,
        response: &TokenResponse,
        received_at_epoch_seconds: u64,
    ) -> Result<(), StorageError> {
        let sub = response
            .id_token()
            .and_then(|t| claims::unverified_sub(t.expose_secret()));
        self.store_token_data(&TokenStorageData::from_response(
            response,
            received_at_epoch_seconds,
            sub.as_deref(),
        ))
    }
}

impl<S: TokenStorage + ?Sized> TokenStorage for std::sync::Arc<S> {
    fn store_token_data(&self, data: &[TokenStorageData]) -> Result<(), StorageError> {
        (**self).store_token_data(data)
    }
    fn get_all_token_data(&self) -> Result<BTreeMap<String, TokenStorageData>, StorageError> {
        (**self).get_all_token_data()
    }
    fn get_token_data(
        &self,
        resource_server: &str,
    ) -> Result<Option<TokenStorageData>, StorageError> {
        (**self).get_token_data(resource_server)
    }
    fn remove_token_data(&self, resource_server: &str) -> Result<bool, StorageError> {
        (**self).remove_token_data(resource_server)
    }
}

/// Tokens kept in memory for the life of the process.
#[derive(Default)]
pub struct MemoryTokenStorage {
    data: Mutex<BTreeMap<String, TokenStorageData>>,
}

impl MemoryTokenStorage {
    /// An empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, TokenStorageData>> {
        self.data.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl fmt::Debug for MemoryTokenStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MemoryTokenStorage")
            .field("resource_servers", &self.lock().keys().collect::<Vec<_>>())
            .finish()
    }
}

impl TokenStorage for MemoryTokenStorage {
    fn store_token_data(&self, data: &[TokenStorageData]) -> Result<(), StorageError> {
        let mut m = self.lock();
        for d in data {
            m.insert(d.resource_server.clone(), d.clone());
        }
        Ok(())
    }
    fn get_all_token_data(&self) -> Result<BTreeMap<String, TokenStorageData>, StorageError> {
        Ok(self.lock().clone())
    }
    fn remove_token_data(&self, resource_server: &str) -> Result<bool, StorageError> {
        Ok(self.lock().remove(resource_server).is_some())
    }
}

/// Tokens in a JSON file in globus-sdk's format (see the [module
/// docs](self) for the format, the file's mode, atomic replacement and
/// locking).
///
/// ```
/// use groups_app::storage::{JsonTokenStorage, TokenStorage, TokenStorageData};
///
/// let dir = std::env::temp_dir().join(format!("groups-app-doc-{}", std::process::id()));
/// let storage = JsonTokenStorage::new(dir.join("tokens.json"))?;
/// storage.store_token_data(&[TokenStorageData::new("auth.globus.org", "AT", 1_700_000_000)
///     .with_scope("openid")])?;
/// let file: serde_json::Value = serde_json::from_slice(&std::fs::read(storage.path()).unwrap()).unwrap();
/// assert_eq!(file["format_version"], "2.0");
/// assert_eq!(file["data"]["DEFAULT"]["auth.globus.org"]["access_token"], "AT");
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), groups_app::storage::StorageError>(())
/// ```
#[derive(Debug)]
pub struct JsonTokenStorage {
    path: PathBuf,
    lock_path: PathBuf,
    namespace: String,
}

impl JsonTokenStorage {
    /// A storage in the file at `path` under the `DEFAULT` namespace. The
    /// directory is created (mode `0700` on Unix) if missing; the file is
    /// created on the first write.
    pub fn new(path: impl Into<PathBuf>) -> Result<Self, StorageError> {
        Self::with_namespace(path, DEFAULT_NAMESPACE)
    }

    /// A storage in the file at `path` under `namespace`.
    pub fn with_namespace(
        path: impl Into<PathBuf>,
        namespace: impl Into<String>,
    ) -> Result<Self, StorageError> {
        let path = path.into();
        let Some(name) = path.file_name() else {
            return Err(StorageError::new(
                StorageErrorKind::Io,
                format!("token storage path {} names no file", path.display()),
            ));
        };
        let mut lock_name = name.to_owned();
        lock_name.push(".lock");
        let lock_path = path.with_file_name(lock_name);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir_all_private(dir)
                .map_err(|e| StorageError::io(dir, "cannot create the directory", e))?;
        }
        Ok(JsonTokenStorage {
            path,
            lock_path,
            namespace: namespace.into(),
        })
    }

    /// The storage globus-sdk's apps use for `client_id` and `app_name` in
    /// `environment` (see [`default_token_file`]).
    pub fn for_app(
        client_id: &str,
        app_name: &str,
        environment: &str,
    ) -> Result<Self, StorageError> {
        Self::new(default_token_file(client_id, app_name, environment)?)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Read the whole file in the current format (a missing file is an
    /// empty one).
    fn load(&self) -> Result<Map<String, Value>, StorageError> {
        let bytes = match fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut root = Map::new();
                root.insert("data".into(), Value::Object(Map::new()));
                root.insert("format_version".into(), FORMAT_VERSION.into());
                root.insert("globus-sdk.version".into(), WRITER_VERSION.into());
                return Ok(root);
            }
            Err(e) => return Err(StorageError::io(&self.path, "cannot read", e)),
        };
        parse_file(&bytes).map_err(|(kind, why)| {
            StorageError::new(
                kind,
                format!(
                    "token storage file {} cannot be used: {why}",
                    self.path.display()
                ),
            )
        })
    }

    fn namespace_data(
        &self,
        root: &Map<String, Value>,
    ) -> Result<BTreeMap<String, TokenStorageData>, StorageError> {
        let mut out = BTreeMap::new();
        match root.get("data").and_then(|d| d.get(&self.namespace)) {
            None => {}
            Some(Value::Object(ns)) => {
                for (rs, v) in ns {
                    let d = TokenStorageData::from_json(v).map_err(|why| {
                        StorageError::new(
                            StorageErrorKind::Corrupt,
                            format!(
                                "token storage file {}: entry {rs:?}: {why}",
                                self.path.display()
                            ),
                        )
                    })?;
                    out.insert(rs.clone(), d);
                }
            }
            Some(_) => {
                return Err(StorageError::new(
                    StorageErrorKind::Corrupt,
                    format!(
                        "token storage file {}: namespace {:?} is not an object",
                        self.path.display(),
                        self.namespace
                    ),
                ));
            }
        }
        Ok(out)
    }

    /// Read, change and replace the file under the lock.
    fn update<R>(
        &self,
        change: impl FnOnce(&mut Map<String, Value>) -> R,
    ) -> Result<R, StorageError> {
        let _lock = FileLock::acquire(&self.lock_path)?;
        let mut root = self.load()?;
        // Check the namespace's entries before changing anything, so a
        // corrupt entry is reported rather than carried along.
        self.namespace_data(&root)?;
        let result = change(&mut root);
        root.insert("globus-sdk.version".into(), WRITER_VERSION.into());
        let bytes = serde_json::to_vec(&Value::Object(root)).map_err(|e| {
            StorageError::new(
                StorageErrorKind::Io,
                format!("cannot encode the token file: {e}"),
            )
        })?;
        self.replace(&bytes)?;
        Ok(result)
    }

    fn namespace_map<'m>(&self, root: &'m mut Map<String, Value>) -> &'m mut Map<String, Value> {
        let data = root
            .entry("data")
            .or_insert_with(|| Value::Object(Map::new()));
        if !data.is_object() {
            *data = Value::Object(Map::new());
        }
        let ns = data
            .as_object_mut()
            .expect("data is an object")
            .entry(self.namespace.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !ns.is_object() {
            *ns = Value::Object(Map::new());
        }
        ns.as_object_mut().expect("namespace is an object")
    }

    /// Write `bytes` to a new temporary file beside the target (mode 0600
    /// from creation), flush it, rename it over the target and flush the
    /// directory. Stale temporary files of earlier crashed writers are
    /// removed first (the caller holds the lock, so none is in use).
    fn replace(&self, bytes: &[u8]) -> Result<(), StorageError> {
        let dir = match self.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let prefix = self.temp_prefix();
        if let Ok(entries) = fs::read_dir(&dir) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with(&prefix) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let mut nonce = [0u8; 8];
        getrandom::fill(&mut nonce).map_err(|e| {
            StorageError::new(
                StorageErrorKind::Io,
                format!("no randomness for a temporary file name: {e}"),
            )
        })?;
        let tmp = dir.join(format!(
            "{prefix}{}-{}",
            std::process::id(),
            u64::from_le_bytes(nonce)
        ));
        let write = || -> io::Result<()> {
            let mut f = private_options().write(true).create_new(true).open(&tmp)?;
            f.write_all(bytes)?;
            f.sync_all()?;
            drop(f);
            fs::rename(&tmp, &self.path)?;
            sync_dir(&dir)
        };
        write().map_err(|e| {
            let _ = fs::remove_file(&tmp);
            StorageError::io(&self.path, "cannot replace", e)
        })
    }

    /// The name prefix of this file's temporary files.
    pub(crate) fn temp_prefix(&self) -> String {
        let name = self
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        format!(".{name}.tmp-")
    }
}

impl TokenStorage for JsonTokenStorage {
    fn store_token_data(&self, data: &[TokenStorageData]) -> Result<(), StorageError> {
        self.update(|root| {
            let ns = self.namespace_map(root);
            for d in data {
                ns.insert(d.resource_server.clone(), d.to_json());
            }
        })
    }

    fn get_all_token_data(&self) -> Result<BTreeMap<String, TokenStorageData>, StorageError> {
        let root = self.load()?;
        self.namespace_data(&root)
    }

    fn remove_token_data(&self, resource_server: &str) -> Result<bool, StorageError> {
        if !self.path.exists() {
            return Ok(false);
        }
        self.update(|root| self.namespace_map(root).remove(resource_server).is_some())
    }
}

/// Check a file's bytes and bring them to the current format.
fn parse_file(bytes: &[u8]) -> Result<Map<String, Value>, (StorageErrorKind, String)> {
    let corrupt = |why: String| (StorageErrorKind::Corrupt, why);
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not JSON ({e})")))?;
    let Value::Object(mut root) = value else {
        return Err(corrupt("the root is not an object".into()));
    };
    let version = root.get("format_version").cloned();
    match version.as_ref().and_then(Value::as_str) {
        Some("1.0") => {
            let Some(Value::Object(by_rs)) = root.remove("by_rs") else {
                return Err(corrupt("format 1.0 without a \"by_rs\" object".to_owned()));
            };
            let mut data = Map::new();
            data.insert(DEFAULT_NAMESPACE.into(), Value::Object(by_rs));
            root.insert("data".into(), Value::Object(data));
            root.insert("format_version".into(), FORMAT_VERSION.into());
            root.entry("globus-sdk.version")
                .or_insert_with(|| WRITER_VERSION.into());
        }
        Some("2.0") => {}
        _ => {
            return Err((
                StorageErrorKind::UnknownFormat,
                format!("unknown format_version {}", short(version.as_ref())),
            ));
        }
    }
    if !root.get("data").is_some_and(Value::is_object) {
        return Err(corrupt("\"data\" is missing or not an object".into()));
    }
    if !root.get("globus-sdk.version").is_some_and(Value::is_string) {
        return Err(corrupt(
            "\"globus-sdk.version\" is missing or not a string".into(),
        ));
    }
    Ok(root)
}

/// A short rendering of a format version (never a long value: the file may
/// be anything).
fn short(v: Option<&Value>) -> String {
    match v {
        None => "(missing)".into(),
        Some(Value::String(s)) if s.len() <= 16 => format!("{s:?}"),
        Some(Value::String(_)) => "(a long string)".into(),
        Some(Value::Number(n)) => n.to_string(),
        Some(_) => "(not a string)".into(),
    }
}

/// Open options creating files readable and writable by the owner only.
pub(crate) fn private_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    o
}

pub(crate) fn create_dir_all_private(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// An exclusive advisory lock on a lock file, released on drop.
struct FileLock {
    /// Held only so that the lock lives as long as this value.
    _file: File,
    #[cfg(not(unix))]
    path: PathBuf,
}

impl FileLock {
    #[cfg(unix)]
    fn acquire(path: &Path) -> Result<Self, StorageError> {
        let file = private_options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(path)
            .map_err(|e| StorageError::io(path, "cannot open the lock file", e))?;
        rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
            .map_err(|e| StorageError::io(path, "cannot lock", e.into()))?;
        Ok(FileLock { _file: file })
    }

    /// Without `flock`: the lock file's existence is the lock (created
    /// exclusively, removed on drop).
    #[cfg(not(unix))]
    fn acquire(path: &Path) -> Result<Self, StorageError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            match private_options().write(true).create_new(true).open(path) {
                Ok(file) => {
                    return Ok(FileLock {
                        _file: file,
                        path: path.to_path_buf(),
                    });
                }
                Err(e)
                    if e.kind() == io::ErrorKind::AlreadyExists
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(10));
                }
                Err(e) => return Err(StorageError::io(path, "cannot lock", e)),
            }
        }
    }
}

#[cfg(not(unix))]
impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// globus-sdk's slug of an app name, for the default token file's
/// directory: the characters `<>:"/\|?*` become `+`, `.` and space become
/// `-`, characters that do not print (control characters and other
/// whitespace) are dropped, and the result is lowercased. An empty result
/// or a reserved Windows name (`con`, `prn`, `aux`, `nul`, `com0`–`com9`,
/// `lpt0`–`lpt9`) is an [`StorageErrorKind::InvalidAppName`] error.
///
/// ```
/// use groups_app::storage::slugify_app_name;
/// assert_eq!(slugify_app_name("My App v1.2: <beta>").unwrap(), "my-app-v1-2+-+beta+");
/// assert!(slugify_app_name("CON").is_err());
/// assert!(slugify_app_name("\u{7}").is_err());
/// ```
pub fn slugify_app_name(app_name: &str) -> Result<String, StorageError> {
    let slug: String = app_name
        .chars()
        .map(|c| match c {
            '<' | '>' | ':' | '"' | '/' | '\\' | '|' | '?' | '*' => '+',
            '.' | ' ' => '-',
            c => c,
        })
        .filter(|c| !(c.is_control() || (c.is_whitespace() && *c != ' ')))
        .flat_map(char::to_lowercase)
        .collect();
    let reserved = matches!(slug.as_str(), "con" | "prn" | "aux" | "nul")
        || ((slug.starts_with("com") || slug.starts_with("lpt"))
            && slug.chars().count() == 4
            && slug.chars().last().is_some_and(char::is_numeric));
    if reserved {
        return Err(StorageError::new(
            StorageErrorKind::InvalidAppName,
            format!("app name results in a reserved file name ({slug:?}); choose another name"),
        ));
    }
    if slug.is_empty() {
        return Err(StorageError::new(
            StorageErrorKind::InvalidAppName,
            "app name results in the empty string; choose another name",
        ));
    }
    Ok(slug)
}

/// The token file globus-sdk's apps use:
/// `~/.globus/app/{client_id}/{slug(app_name)}/{env-}tokens.json` on Unix
/// (no prefix in `production`), and on Windows
/// `%LOCALAPPDATA%` (else `%APPDATA%`, else `~\AppData\Local`)
/// `\globus\app\{client_id}\{slug}\{env-}tokens.json`. See
/// [`slugify_app_name`].
///
/// ```
/// use groups_app::storage::default_token_file_in;
/// use std::path::Path;
/// let p = default_token_file_in(Path::new("/home/ada"), "CID", "My App", "preview").unwrap();
/// assert_eq!(p, Path::new("/home/ada/.globus/app/CID/my-app/preview-tokens.json"));
/// ```
pub fn default_token_file(
    client_id: &str,
    app_name: &str,
    environment: &str,
) -> Result<PathBuf, StorageError> {
    #[cfg(windows)]
    {
        let data = std::env::var_os("LOCALAPPDATA")
            .filter(|v| !v.is_empty())
            .or_else(|| std::env::var_os("APPDATA").filter(|v| !v.is_empty()))
            .map(PathBuf::from)
            .or_else(|| home_dir().map(|h| h.join("AppData").join("Local")))
            .ok_or_else(no_home)?;
        Ok(data
            .join("globus")
            .join("app")
            .join(client_id)
            .join(slugify_app_name(app_name)?)
            .join(token_file_name(environment)))
    }
    #[cfg(not(windows))]
    {
        default_token_file_in(
            &home_dir().ok_or_else(no_home)?,
            client_id,
            app_name,
            environment,
        )
    }
}

/// [`default_token_file`] under the home directory `home` (Unix layout).
pub fn default_token_file_in(
    home: &Path,
    client_id: &str,
    app_name: &str,
    environment: &str,
) -> Result<PathBuf, StorageError> {
    Ok(home
        .join(".globus")
        .join("app")
        .join(client_id)
        .join(slugify_app_name(app_name)?)
        .join(token_file_name(environment)))
}

/// The SQLite file globus-sdk's apps use (`token_storage="sqlite"`): the
/// [`default_token_file`] with the extension `db`
/// (`~/.globus/app/{client_id}/{slug}/{env-}tokens.db`).
pub fn default_sqlite_file(
    client_id: &str,
    app_name: &str,
    environment: &str,
) -> Result<PathBuf, StorageError> {
    Ok(default_token_file(client_id, app_name, environment)?.with_extension("db"))
}

fn token_file_name(environment: &str) -> String {
    if environment == "production" {
        "tokens.json".into()
    } else {
        format!("{environment}-tokens.json")
    }
}

fn no_home() -> StorageError {
    StorageError::new(
        StorageErrorKind::NoHomeDirectory,
        "no home directory (HOME is not set) for the default token file",
    )
}

fn home_dir() -> Option<PathBuf> {
    let var = if cfg!(windows) { "USERPROFILE" } else { "HOME" };
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_follows_globus_sdk() {
        assert_eq!(slugify_app_name("a?").unwrap(), "a+");
        assert_eq!(slugify_app_name("a. b").unwrap(), "a--b");
        assert_eq!(slugify_app_name("a\0b").unwrap(), "ab");
        assert_eq!(slugify_app_name("AB").unwrap(), "ab");
        assert_eq!(
            slugify_app_name("com1").unwrap_err().kind(),
            StorageErrorKind::InvalidAppName
        );
        assert_eq!(
            slugify_app_name("LPT9").unwrap_err().kind(),
            StorageErrorKind::InvalidAppName
        );
        assert_eq!(slugify_app_name("com10").unwrap(), "com10");
        assert_eq!(slugify_app_name("console").unwrap(), "console");
        assert_eq!(
            slugify_app_name("").unwrap_err().kind(),
            StorageErrorKind::InvalidAppName
        );
    }

    #[test]
    fn file_name_has_the_environment_prefix() {
        assert_eq!(token_file_name("production"), "tokens.json");
        assert_eq!(token_file_name("sandbox"), "sandbox-tokens.json");
    }

    #[test]
    fn v1_is_upgraded_and_bad_shapes_are_typed() {
        let v1 = br#"{"format_version": "1.0", "globus-sdk.version": "3.0", "by_rs": {"x": {}}}"#;
        let root = parse_file(v1).unwrap();
        assert_eq!(root["format_version"], "2.0");
        assert!(root["data"]["DEFAULT"]["x"].is_object());
        assert!(root.get("by_rs").is_none());
        for (bytes, kind) in [
            (&b"not json"[..], StorageErrorKind::Corrupt),
            (b"[]", StorageErrorKind::Corrupt),
            (
                b"{\"format_version\": \"9.0\", \"data\": {}}",
                StorageErrorKind::UnknownFormat,
            ),
            (b"{\"data\": {}}", StorageErrorKind::UnknownFormat),
            (b"{\"format_version\": \"1.0\"}", StorageErrorKind::Corrupt),
            (
                b"{\"format_version\": \"2.0\", \"data\": [], \"globus-sdk.version\": \"x\"}",
                StorageErrorKind::Corrupt,
            ),
            (
                b"{\"format_version\": \"2.0\", \"data\": {}}",
                StorageErrorKind::Corrupt,
            ),
        ] {
            assert_eq!(
                parse_file(bytes).unwrap_err().0,
                kind,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn entries_round_trip_and_keep_extras() {
        let v = serde_json::json!({"resource_server": "rs", "scope": "s", "access_token": "AT",
            "expires_at_seconds": 5, "token_type": "Bearer", "future": [1]});
        let d = TokenStorageData::from_json(&v).unwrap();
        assert_eq!(d.identity_id, None);
        assert!(d.refresh_token.is_none());
        assert_eq!(d.to_json(), v);
        let bad = serde_json::json!({"resource_server": "rs", "scope": "s", "access_token": 7,
            "expires_at_seconds": 5});
        let e = TokenStorageData::from_json(&bad).unwrap_err();
        assert!(e.contains("access_token") && !e.contains('7'), "{e}");
    }
}

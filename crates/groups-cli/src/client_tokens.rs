//! Client-credentials tokens kept between runs, as globus-cli keeps its
//! client's tokens in its token storage.
//!
//! A confidential client (`GLOBUS_GROUPS_CLIENT_ID` and
//! `GLOBUS_GROUPS_CLIENT_SECRET`) gets its Groups token, and the Auth token
//! of its identity lookups, from the client credentials grant. The answers
//! are written to the client's token file in globus-sdk's JSON format,
//! `~/.globus/app/<client id>/globus-groups/{env-}tokens.json` (the
//! location user logins use, under the client's own id), and a later run
//! uses a stored token until 60 s before it expires.
//!
//! The entries live in a namespace of their own inside that file,
//! `globus-groups client-credentials <Auth URL> <fingerprint>`, where the
//! fingerprint is the first 16 hex digits of SHA-256 over the Auth URL,
//! the client id and the secret. So a token is only ever used again by
//! the same client with the same secret against the same Globus Auth (and
//! the environment picks the file name); user logins stay in the
//! `DEFAULT` namespace of their own client's file and never mix with
//! these. The directory is created with mode 0700 and the file with 0600
//! (by groups-app's [`JsonTokenStorage`]).
//!
//! Storage never stops a command: without a home directory, with a client
//! id that is not a plain file name, or when the file cannot be read or
//! written, the token is fetched as if nothing were stored (and a file
//! that is not a token file is replaced by the next token answer).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use groups_app::storage::{StorageErrorKind, default_token_file};
use groups_app::{JsonTokenStorage, TokenStorage, TokenStorageData};
use groups_core::auth::{SecretString, TokenResponse};
use sha2::{Digest, Sha256};

/// The app name that names the token file's directory, for client tokens
/// and user logins alike (`~/.globus/app/<client id>/globus-groups/`).
pub const APP_NAME: &str = "globus-groups";
/// The start of every client-credentials namespace in a token file.
pub const NAMESPACE_PREFIX: &str = "globus-groups client-credentials ";

/// A stored token is used until this many seconds before its expiry (the
/// core's providers renew at the same margin).
const EXPIRY_MARGIN_SECS: u64 = 60;

/// The current time, epoch seconds.
pub fn now_epoch() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Whether `id` can name a directory: not empty, not `.` or `..`, only
/// letters, digits, `-`, `_` and `.` (client ids are UUIDs).
fn is_plain_file_name(id: &str) -> bool {
    !id.is_empty()
        && id != "."
        && id != ".."
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// The namespace of a client's tokens from one Globus Auth.
pub fn namespace(auth_url: &str, client_id: &str, secret: &SecretString) -> String {
    let mut h = Sha256::new();
    for part in [auth_url, client_id, secret.expose_secret()] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    let digest = h.finalize();
    let mut fingerprint = String::with_capacity(16);
    for b in &digest[..8] {
        fingerprint.push_str(&format!("{b:02x}"));
    }
    format!("{NAMESPACE_PREFIX}{auth_url} {fingerprint}")
}

/// One client's stored tokens (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct ClientTokens {
    storage: Arc<JsonTokenStorage>,
}

impl ClientTokens {
    /// The storage of `client_id` (with `secret`) against the Auth service
    /// at `auth_url` in `environment`; `None` when there is nowhere to keep
    /// tokens (no home directory, a client id that is no plain file name,
    /// a directory that cannot be created).
    pub fn open(
        client_id: &str,
        secret: &SecretString,
        auth_url: &str,
        environment: &str,
    ) -> Option<ClientTokens> {
        if !is_plain_file_name(client_id) {
            tracing::debug!("client id is not a plain file name: its tokens are not stored");
            return None;
        }
        let path = default_token_file(client_id, APP_NAME, environment).ok()?;
        match JsonTokenStorage::with_namespace(&path, namespace(auth_url, client_id, secret)) {
            Ok(s) => Some(ClientTokens {
                storage: Arc::new(s),
            }),
            Err(e) => {
                tracing::warn!("client tokens are not stored: {e}");
                None
            }
        }
    }

    /// The token file.
    pub fn path(&self) -> &Path {
        self.storage.path()
    }

    /// The stored access token of `resource_server` granting `scope`, with
    /// the seconds it has left, when more than 60 s are left.
    pub fn usable(&self, resource_server: &str, scope: &str) -> Option<(SecretString, u64)> {
        let stored = match self.storage.get_token_data(resource_server) {
            Ok(s) => s?,
            Err(e) => {
                tracing::warn!("stored client tokens ignored: {e}");
                return None;
            }
        };
        let left = stored.expires_at_seconds.saturating_sub(now_epoch());
        (left > EXPIRY_MARGIN_SECS && stored.scopes().any(|s| s == scope))
            .then_some((stored.access_token, left))
    }

    /// Store every token of `response`, received at `received` (epoch
    /// seconds). A file that is not a token file is replaced; other
    /// failures are logged and otherwise ignored (the next run fetches a
    /// token again).
    pub fn store(&self, response: &TokenResponse, received: u64) {
        let data = TokenStorageData::from_response(response, received, None);
        match self.storage.store_token_data(&data) {
            Ok(()) => {}
            Err(e) if matches!(e.kind(), StorageErrorKind::Corrupt) => {
                tracing::warn!("replacing the unusable token file: {e}");
                let _ = std::fs::remove_file(self.storage.path());
                if let Err(e) = self.storage.store_token_data(&data) {
                    tracing::warn!("client tokens not stored: {e}");
                }
            }
            Err(e) => tracing::warn!("client tokens not stored: {e}"),
        }
    }

    /// The hook that stores every renewal of a provider.
    pub fn hook(&self) -> impl Fn(&TokenResponse) + Send + Sync + 'static {
        let this = self.clone();
        move |response: &TokenResponse| this.store(response, now_epoch())
    }

    /// Every stored entry of this client (for logout).
    pub fn all(&self) -> Vec<TokenStorageData> {
        self.storage
            .get_all_token_data()
            .map(|m| m.into_values().collect())
            .unwrap_or_default()
    }
}

/// The token files of `globus-groups` under the home directory that hold
/// client-credentials namespaces, with those namespaces (for logout: every
/// client's stored tokens, whichever client the environment names now).
pub fn stored_client_namespaces(environment: &str) -> Vec<(PathBuf, Vec<String>)> {
    // The file of a made-up client id: its grandparent is the directory
    // of every client id.
    let Ok(probe) = default_token_file("x", APP_NAME, environment) else {
        return Vec::new();
    };
    let (Some(file_name), Some(apps)) = (
        probe.file_name().map(ToOwned::to_owned),
        probe.parent().and_then(Path::parent).and_then(Path::parent),
    ) else {
        return Vec::new();
    };
    let Ok(entries) = std::fs::read_dir(apps) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().join(APP_NAME).join(&file_name);
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let Ok(doc) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        let names: Vec<String> = doc
            .get("data")
            .and_then(serde_json::Value::as_object)
            .map(|data| {
                data.keys()
                    .filter(|k| k.starts_with(NAMESPACE_PREFIX))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        if !names.is_empty() {
            found.push((path, names));
        }
    }
    found
}

/// Remove the namespace `namespace` of the token file `path`; the
/// resource servers removed.
pub fn remove_namespace(path: &Path, namespace: &str) -> Result<Vec<String>, String> {
    let storage = JsonTokenStorage::with_namespace(path, namespace).map_err(|e| e.to_string())?;
    let stored = storage.get_all_token_data().map_err(|e| e.to_string())?;
    let mut removed = Vec::new();
    for rs in stored.keys() {
        if storage.remove_token_data(rs).map_err(|e| e.to_string())? {
            removed.push(rs.clone());
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_differ_by_auth_url_client_and_secret() {
        let s = SecretString::new("secret");
        let a = namespace("https://auth.globus.org/", "c1", &s);
        assert!(a.starts_with("globus-groups client-credentials https://auth.globus.org/ "));
        assert!(!a.contains("secret"));
        assert_ne!(a, namespace("http://127.0.0.1:1/", "c1", &s));
        assert_ne!(a, namespace("https://auth.globus.org/", "c2", &s));
        assert_ne!(
            a,
            namespace(
                "https://auth.globus.org/",
                "c1",
                &SecretString::new("other")
            )
        );
        assert_eq!(a, namespace("https://auth.globus.org/", "c1", &s));
    }

    #[test]
    fn only_plain_client_ids_name_directories() {
        assert!(is_plain_file_name("c1000000-0000-4000-8000-000000000001"));
        for bad in ["", ".", "..", "a/b", "../x", "a\\b", "a b"] {
            assert!(!is_plain_file_name(bad), "{bad:?}");
        }
    }
}

//! [`SqliteTokenStorage`]: tokens in an SQLite database in globus-sdk's
//! format (the `sqlite` cargo feature).
//!
//! # The database
//!
//! The tables globus-sdk's `SQLiteTokenStorage` creates and reads:
//!
//! ```sql
//! CREATE TABLE token_storage (
//!     namespace VARCHAR NOT NULL,
//!     resource_server VARCHAR NOT NULL,
//!     token_data_json VARCHAR NOT NULL,
//!     PRIMARY KEY (namespace, resource_server)
//! );
//! CREATE TABLE sdk_storage_adapter_internal (
//!     attribute VARCHAR NOT NULL,
//!     value VARCHAR NOT NULL,
//!     PRIMARY KEY (attribute)
//! );
//! ```
//!
//! `token_data_json` holds the same JSON object as one entry of the JSON
//! file ([`TokenStorageData::to_json`]). `sdk_storage_adapter_internal`
//! holds `globus-sdk.version` and `globus-sdk.database_schema_version`
//! (`2`); a database with another schema version is an
//! [`UnknownFormat`](StorageErrorKind::UnknownFormat) error, a file that is
//! not an SQLite database a [`Corrupt`](StorageErrorKind::Corrupt) one, and
//! neither is ever changed.
//!
//! The file is created with mode `0600` before SQLite opens it (SQLite's
//! journal files take the database's mode); SQLite's own locking and
//! transactions make concurrent writers safe (a writer waits up to five
//! seconds for another).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};

use crate::storage::{
    DEFAULT_NAMESPACE, StorageError, StorageErrorKind, TokenStorage, TokenStorageData,
    WRITER_VERSION, create_dir_all_private, default_sqlite_file, private_options,
};

/// The schema version written and read.
pub const DATABASE_SCHEMA_VERSION: &str = "2";
/// How long a writer waits for another's lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Tokens in an SQLite database in globus-sdk's format (see the [module
/// docs](self)).
///
/// ```
/// use groups_app::storage::{TokenStorage, TokenStorageData};
/// use groups_app::sqlite_storage::SqliteTokenStorage;
///
/// let dir = std::env::temp_dir().join(format!("groups-app-sqlite-doc-{}", std::process::id()));
/// let storage = SqliteTokenStorage::new(dir.join("tokens.db"))?;
/// storage.store_token_data(&[TokenStorageData::new("auth.globus.org", "AT", 1_700_000_000)
///     .with_scope("openid")])?;
/// let back = storage.get_token_data("auth.globus.org")?.unwrap();
/// assert_eq!(back.access_token.expose_secret(), "AT");
/// # drop(storage);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), groups_app::storage::StorageError>(())
/// ```
pub struct SqliteTokenStorage {
    path: PathBuf,
    namespace: String,
    conn: Mutex<Connection>,
}

impl fmt::Debug for SqliteTokenStorage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SqliteTokenStorage")
            .field("path", &self.path)
            .field("namespace", &self.namespace)
            .finish()
    }
}

fn sql_error(path: &Path, e: &rusqlite::Error) -> StorageError {
    let kind = match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::NotADatabase) | Some(rusqlite::ErrorCode::DatabaseCorrupt) => {
            StorageErrorKind::Corrupt
        }
        _ => StorageErrorKind::Io,
    };
    StorageError::new(kind, format!("token database {}: {e}", path.display()))
}

impl SqliteTokenStorage {
    /// A storage in the database at `path` under the `DEFAULT` namespace.
    /// The directory (mode `0700`) and the file (mode `0600`) are created
    /// if missing, and the tables too.
    pub fn new(path: impl Into<PathBuf>) -> Result<Self, StorageError> {
        Self::with_namespace(path, DEFAULT_NAMESPACE)
    }

    /// A storage in the database at `path` under `namespace`.
    pub fn with_namespace(
        path: impl Into<PathBuf>,
        namespace: impl Into<String>,
    ) -> Result<Self, StorageError> {
        let path = path.into();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_dir_all_private(dir)
                .map_err(|e| StorageError::io(dir, "cannot create the directory", e))?;
        }
        // Create the file with the private mode first: SQLite would create
        // it with the umask's mode.
        private_options()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| StorageError::io(&path, "cannot create", e))?;
        let conn = Connection::open(&path).map_err(|e| sql_error(&path, &e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| sql_error(&path, &e))?;
        let storage = SqliteTokenStorage {
            path,
            namespace: namespace.into(),
            conn: Mutex::new(conn),
        };
        storage.init()?;
        Ok(storage)
    }

    /// The storage globus-sdk's apps use with `token_storage="sqlite"` for
    /// `client_id` and `app_name` in `environment` (see
    /// [`default_sqlite_file`]).
    pub fn for_app(
        client_id: &str,
        app_name: &str,
        environment: &str,
    ) -> Result<Self, StorageError> {
        Self::new(default_sqlite_file(client_id, app_name, environment)?)
    }

    /// The database's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Check the schema version and create what is missing.
    fn init(&self) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let err = |e: rusqlite::Error| sql_error(&self.path, &e);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        let has_internal: bool = tx
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
                 AND name = 'sdk_storage_adapter_internal'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(err)?
            > 0;
        if has_internal {
            let version: Option<String> = tx
                .query_row(
                    "SELECT value FROM sdk_storage_adapter_internal \
                     WHERE attribute = 'globus-sdk.database_schema_version'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(err)?;
            if let Some(v) = version
                && v != DATABASE_SCHEMA_VERSION
            {
                let v: String = v.chars().take(16).collect();
                return Err(StorageError::new(
                    StorageErrorKind::UnknownFormat,
                    format!(
                        "token database {} has schema version {v:?}, not {DATABASE_SCHEMA_VERSION}",
                        self.path.display()
                    ),
                ));
            }
        }
        tx.execute_batch(
            "CREATE TABLE IF NOT EXISTS token_storage (
                namespace VARCHAR NOT NULL,
                resource_server VARCHAR NOT NULL,
                token_data_json VARCHAR NOT NULL,
                PRIMARY KEY (namespace, resource_server)
            );
            CREATE TABLE IF NOT EXISTS sdk_storage_adapter_internal (
                attribute VARCHAR NOT NULL,
                value VARCHAR NOT NULL,
                PRIMARY KEY (attribute)
            );",
        )
        .map_err(err)?;
        tx.execute(
            "INSERT OR REPLACE INTO sdk_storage_adapter_internal (attribute, value) \
             VALUES ('globus-sdk.version', ?1), ('globus-sdk.database_schema_version', ?2)",
            params![WRITER_VERSION, DATABASE_SCHEMA_VERSION],
        )
        .map_err(err)?;
        tx.commit().map_err(err)
    }
}

impl TokenStorage for SqliteTokenStorage {
    fn store_token_data(&self, data: &[TokenStorageData]) -> Result<(), StorageError> {
        let mut conn = self.conn();
        let err = |e: rusqlite::Error| sql_error(&self.path, &e);
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(err)?;
        for d in data {
            tx.execute(
                "INSERT OR REPLACE INTO token_storage \
                 (namespace, resource_server, token_data_json) VALUES (?1, ?2, ?3)",
                params![self.namespace, d.resource_server, d.to_json().to_string()],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn get_all_token_data(&self) -> Result<BTreeMap<String, TokenStorageData>, StorageError> {
        let conn = self.conn();
        let err = |e: rusqlite::Error| sql_error(&self.path, &e);
        let mut stmt = conn
            .prepare(
                "SELECT resource_server, token_data_json FROM token_storage \
                 WHERE namespace = ?1",
            )
            .map_err(err)?;
        let rows = stmt
            .query_map(params![self.namespace], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .map_err(err)?;
        let mut out = BTreeMap::new();
        for row in rows {
            let (rs, json) = row.map_err(err)?;
            let corrupt = |why: String| {
                StorageError::new(
                    StorageErrorKind::Corrupt,
                    format!(
                        "token database {}: entry {rs:?}: {why}",
                        self.path.display()
                    ),
                )
            };
            let value: serde_json::Value =
                serde_json::from_str(&json).map_err(|e| corrupt(format!("not JSON ({e})")))?;
            out.insert(
                rs.clone(),
                TokenStorageData::from_json(&value).map_err(corrupt)?,
            );
        }
        Ok(out)
    }

    fn get_token_data(
        &self,
        resource_server: &str,
    ) -> Result<Option<TokenStorageData>, StorageError> {
        Ok(self.get_all_token_data()?.remove(resource_server))
    }

    fn remove_token_data(&self, resource_server: &str) -> Result<bool, StorageError> {
        let conn = self.conn();
        let n = conn
            .execute(
                "DELETE FROM token_storage WHERE namespace = ?1 AND resource_server = ?2",
                params![self.namespace, resource_server],
            )
            .map_err(|e| sql_error(&self.path, &e))?;
        Ok(n > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn another_schema_version_is_refused_and_kept() {
        let dir =
            std::env::temp_dir().join(format!("groups-app-sqlite-unit-{}", std::process::id()));
        let path = dir.join("tokens.db");
        let storage = SqliteTokenStorage::new(&path).unwrap();
        storage
            .store_token_data(&[TokenStorageData::new("x", "AT", 1).with_scope("s")])
            .unwrap();
        storage
            .conn()
            .execute(
                "UPDATE sdk_storage_adapter_internal SET value = '3' \
                 WHERE attribute = 'globus-sdk.database_schema_version'",
                [],
            )
            .unwrap();
        drop(storage);
        let e = SqliteTokenStorage::new(&path).unwrap_err();
        assert_eq!(e.kind(), StorageErrorKind::UnknownFormat, "{e}");
        let conn = Connection::open(&path).unwrap();
        let v: String = conn
            .query_row(
                "SELECT value FROM sdk_storage_adapter_internal \
                 WHERE attribute = 'globus-sdk.database_schema_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, "3", "left as it was");
        let n: i64 = conn
            .query_row("SELECT count(*) FROM token_storage", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1, "the data is kept");
        drop(conn);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

//! Errors from building a transport or a client.

use std::error::Error as StdError;
use std::fmt;

/// Building a [`crate::HyperTransport`] or a client failed.
///
/// Raised for invalid configuration only (an unreadable CA bundle, an
/// unparseable environment variable, an unusable base URL); never by a
/// request. The message names the setting and never contains a token.
#[derive(Debug)]
pub struct BuildError {
    kind: BuildErrorKind,
    message: String,
    source: Option<Box<dyn StdError + Send + Sync + 'static>>,
}

/// What kind of configuration was wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BuildErrorKind {
    /// An environment variable had a value that cannot be used.
    InvalidEnvVar,
    /// A CA bundle could not be read or held no usable certificate.
    CaBundle,
    /// The TLS configuration could not be built.
    Tls,
    /// A service URL is not an absolute `https` URL (or loopback `http`
    /// with plain HTTP enabled).
    InvalidUrl,
    /// The core client configuration was rejected.
    Config,
}

impl BuildError {
    pub(crate) fn new(kind: BuildErrorKind, message: impl Into<String>) -> Self {
        BuildError {
            kind,
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn with_source(
        mut self,
        source: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The kind of configuration problem.
    pub fn kind(&self) -> BuildErrorKind {
        self.kind
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl StdError for BuildError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn StdError + 'static))
    }
}

impl From<BuildError> for groups_core::GroupsError {
    /// A configuration problem is invalid input to the SDK.
    fn from(e: BuildError) -> Self {
        let mut message = e.message;
        if let Some(source) = &e.source {
            let cause = source.to_string();
            if !message.contains(&cause) {
                message = format!("{message}: {cause}");
            }
        }
        groups_core::GroupsError::InvalidInput(message)
    }
}

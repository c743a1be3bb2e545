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
    fn from(mut e: BuildError) -> Self {
        // A core error (e.g. a bad base URL) passes through unchanged rather
        // than being wrapped in a second "invalid input".
        match e
            .source
            .take()
            .map(|s| s.downcast::<groups_core::GroupsError>())
        {
            Some(Ok(core)) => return *core,
            Some(Err(other)) => e.source = Some(other),
            None => {}
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_core_error_is_not_wrapped_twice() {
        let core = groups_core::GroupsError::invalid_input("bad base URL \"ftp://x\"");
        let build = BuildError::new(BuildErrorKind::Config, core.to_string()).with_source(core);
        let back = groups_core::GroupsError::from(build);
        assert_eq!(back.to_string(), "invalid input: bad base URL \"ftp://x\"");
    }

    #[test]
    fn other_causes_are_appended_once() {
        let io = std::io::Error::other("no such file");
        let build =
            BuildError::new(BuildErrorKind::CaBundle, "cannot read CA bundle").with_source(io);
        let back = groups_core::GroupsError::from(build);
        assert_eq!(
            back.to_string(),
            "invalid input: cannot read CA bundle: no such file"
        );
    }
}

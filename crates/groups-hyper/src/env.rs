//! The transport's environment variables, parsed the way globus-sdk does.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::{BuildError, BuildErrorKind};

/// Per-attempt timeout in seconds (float); `-1` means none; unset or empty
/// means the default.
pub const HTTP_TIMEOUT_VAR: &str = "GLOBUS_SDK_HTTP_TIMEOUT";
/// TLS verification: a boolean word, or the path of a PEM CA bundle.
pub const VERIFY_SSL_VAR: &str = "GLOBUS_SDK_VERIFY_SSL";

/// The default per-attempt timeout (globus-sdk's).
pub const DEFAULT_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(60);

fn invalid(var: &str, reason: String) -> BuildError {
    BuildError::new(BuildErrorKind::InvalidEnvVar, format!("{var}: {reason}"))
}

/// `GLOBUS_SDK_HTTP_TIMEOUT`: `None` (unset/empty) keeps the default,
/// `Some(None)` is "no timeout" (`-1`), `Some(Some(d))` a positive number of
/// seconds.
pub(crate) fn parse_http_timeout(
    value: Option<&str>,
) -> Result<Option<Option<Duration>>, BuildError> {
    let Some(raw) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let secs: f64 = raw.parse().map_err(|_| {
        invalid(
            HTTP_TIMEOUT_VAR,
            format!("{raw:?} is not a number of seconds"),
        )
    })?;
    if secs == -1.0 {
        return Ok(Some(None));
    }
    if !(secs.is_finite() && secs > 0.0) {
        return Err(invalid(
            HTTP_TIMEOUT_VAR,
            format!("{raw:?} must be a positive number of seconds or -1 for none"),
        ));
    }
    Duration::try_from_secs_f64(secs)
        .map(|d| Some(Some(d)))
        .map_err(|_| invalid(HTTP_TIMEOUT_VAR, format!("{raw:?} is out of range")))
}

/// What `GLOBUS_SDK_VERIFY_SSL` asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum VerifySsl {
    Verify,
    DontVerify,
    CaBundle(PathBuf),
}

/// `GLOBUS_SDK_VERIFY_SSL`: unset or empty verifies with the default roots.
pub(crate) fn parse_verify_ssl(value: Option<&str>) -> Result<VerifySsl, BuildError> {
    let Some(raw) = value.filter(|v| !v.is_empty()) else {
        return Ok(VerifySsl::Verify);
    };
    let word = raw.trim().to_ascii_lowercase();
    match word.as_str() {
        "y" | "yes" | "t" | "true" | "on" | "1" => Ok(VerifySsl::Verify),
        "n" | "no" | "f" | "false" | "off" | "0" => Ok(VerifySsl::DontVerify),
        _ => {
            let path = PathBuf::from(raw);
            if path.is_file() {
                Ok(VerifySsl::CaBundle(path))
            } else {
                Err(invalid(
                    VERIFY_SSL_VAR,
                    format!(
                        "{raw:?} is neither a boolean nor the path of an existing CA bundle file"
                    ),
                ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_timeout_follows_globus_sdk() {
        assert_eq!(parse_http_timeout(None).unwrap(), None);
        assert_eq!(parse_http_timeout(Some("")).unwrap(), None);
        assert_eq!(parse_http_timeout(Some("  ")).unwrap(), None);
        assert_eq!(
            parse_http_timeout(Some("30")).unwrap(),
            Some(Some(Duration::from_secs(30)))
        );
        assert_eq!(
            parse_http_timeout(Some(" 2.5 ")).unwrap(),
            Some(Some(Duration::from_millis(2500)))
        );
        assert_eq!(parse_http_timeout(Some("-1")).unwrap(), Some(None));
        assert_eq!(parse_http_timeout(Some("-1.0")).unwrap(), Some(None));
        for bad in ["abc", "0", "-2", "nan", "inf", "1e400"] {
            let err = parse_http_timeout(Some(bad)).unwrap_err();
            assert_eq!(err.kind(), BuildErrorKind::InvalidEnvVar, "{bad}");
            assert!(err.to_string().contains(HTTP_TIMEOUT_VAR));
        }
    }

    #[test]
    fn verify_ssl_words_and_paths() {
        assert_eq!(parse_verify_ssl(None).unwrap(), VerifySsl::Verify);
        assert_eq!(parse_verify_ssl(Some("")).unwrap(), VerifySsl::Verify);
        for yes in ["y", "YES", "t", "True", "on", "1"] {
            assert_eq!(
                parse_verify_ssl(Some(yes)).unwrap(),
                VerifySsl::Verify,
                "{yes}"
            );
        }
        for no in ["n", "No", "F", "false", "OFF", "0"] {
            assert_eq!(
                parse_verify_ssl(Some(no)).unwrap(),
                VerifySsl::DontVerify,
                "{no}"
            );
        }
        let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
        assert_eq!(
            parse_verify_ssl(Some(manifest)).unwrap(),
            VerifySsl::CaBundle(PathBuf::from(manifest))
        );
        let err = parse_verify_ssl(Some("/definitely/not/here.pem")).unwrap_err();
        assert_eq!(err.kind(), BuildErrorKind::InvalidEnvVar);
        assert!(err.to_string().contains(VERIFY_SSL_VAR));
    }
}

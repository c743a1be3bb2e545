//! The transport's environment variables, parsed the way globus-sdk does.

use std::path::PathBuf;

use crate::error::{BuildError, BuildErrorKind};

/// TLS verification: a boolean word, or the path of a PEM CA bundle.
pub const VERIFY_SSL_VAR: &str = "GLOBUS_SDK_VERIFY_SSL";

fn invalid(var: &str, reason: String) -> BuildError {
    BuildError::new(BuildErrorKind::InvalidEnvVar, format!("{var}: {reason}"))
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

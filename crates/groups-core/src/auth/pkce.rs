//! PKCE (proof key for code exchange) for native apps.
//!
//! A native app cannot keep a secret, so it proves at the code exchange
//! that it is the app that started the login: it sends the SHA-256 of a
//! random verifier (the challenge, method `S256`) with the authorize URL,
//! and the verifier itself with the code. The core draws no random numbers:
//! the caller supplies 32 random bytes (from the OS generator, say).
//!
//! ```
//! use groups_core::auth::pkce::PkceVerifier;
//!
//! // The example of RFC 7636, appendix B.
//! let v = PkceVerifier::new("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
//! assert_eq!(v.challenge(), "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
//!
//! let from_bytes = PkceVerifier::from_random_bytes([7u8; 32]);
//! assert_eq!(from_bytes.expose_secret().len(), 43);
//! assert!(PkceVerifier::new("too short").is_err());
//! ```

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::error::GroupsError;

/// The shortest verifier allowed.
pub const MIN_VERIFIER_LEN: usize = 43;
/// The longest verifier allowed.
pub const MAX_VERIFIER_LEN: usize = 128;

/// A PKCE code verifier: 43 to 128 characters of `A-Z a-z 0-9 - . _ ~`.
///
/// It is a secret until the code exchange: `Debug` and `Display` hide it.
#[derive(Clone)]
pub struct PkceVerifier(String);

impl PkceVerifier {
    /// A verifier from 32 random bytes supplied by the caller: their URL-safe
    /// base64 without padding (43 characters), as globus-sdk makes it.
    pub fn from_random_bytes(bytes: [u8; 32]) -> Self {
        PkceVerifier(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// A verifier given as text; anything but 43 to 128 characters of
    /// `A-Z a-z 0-9 - . _ ~` is an invalid-input error.
    pub fn new(verifier: impl Into<String>) -> Result<Self, GroupsError> {
        let v = verifier.into();
        let ok_chars = v
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
        if !(MIN_VERIFIER_LEN..=MAX_VERIFIER_LEN).contains(&v.len()) || !ok_chars {
            return Err(GroupsError::invalid_input(format!(
                "a PKCE verifier must be {MIN_VERIFIER_LEN} to {MAX_VERIFIER_LEN} characters of \
                 A-Z a-z 0-9 - . _ ~ (got {} characters)",
                v.chars().count()
            )));
        }
        Ok(PkceVerifier(v))
    }

    /// The verifier itself, for the code exchange.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The `S256` challenge: URL-safe base64 without padding of the
    /// verifier's SHA-256.
    pub fn challenge(&self) -> String {
        URL_SAFE_NO_PAD.encode(Sha256::digest(self.0.as_bytes()))
    }

    /// The challenge method sent with the challenge: always `S256`.
    pub fn challenge_method(&self) -> &'static str {
        "S256"
    }
}

impl fmt::Debug for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceVerifier(<redacted>)")
    }
}

impl fmt::Display for PkceVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

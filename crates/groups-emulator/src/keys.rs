//! The RSA key that signs id_tokens: generated once per process on first use (2048
//! bits, RS512 = PKCS#1 v1.5 with SHA-512) and shared by every emulator in it, so tests
//! that start many emulators pay for one key. Also the random token values.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::sha2::{Digest, Sha256, Sha512};
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};

/// The signing algorithm of id_tokens.
pub(crate) const ALG: &str = "RS512";

struct Keys {
    private: rsa::PrivateKey,
    kid: String,
    jwk: Value,
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|x| *x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[start..]
}

fn keys() -> Option<&'static Keys> {
    static KEYS: OnceLock<Option<Keys>> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = getrandom::SysRng;
        let private = match rsa::PrivateKey::new(&mut rng, 2048) {
            Ok(k) => k,
            Err(e) => {
                tracing::error!(error = %e, "cannot generate the id_token signing key");
                return None;
            }
        };
        let n = private.n().to_be_bytes();
        let e = private.e().to_be_bytes();
        let n = URL_SAFE_NO_PAD.encode(strip_zeros(&n));
        let e = URL_SAFE_NO_PAD.encode(strip_zeros(&e));
        let kid = URL_SAFE_NO_PAD.encode(&Sha256::digest(n.as_bytes())[..12]);
        let jwk = json!({"kty": "RSA", "alg": ALG, "kid": kid, "use": "sig", "n": n, "e": e});
        Some(Keys { private, kid, jwk })
    })
    .as_ref()
}

/// The JWKS document (`GET /jwk.json`); `None` when no key could be generated.
pub(crate) fn jwks() -> Option<Value> {
    keys().map(|k| json!({ "keys": [k.jwk] }))
}

/// `claims` as a signed JWT (RS512), or `None` without a key.
pub(crate) fn sign_jwt(claims: &Value) -> Option<String> {
    let k = keys()?;
    let header = json!({"alg": ALG, "typ": "JWT", "kid": k.kid});
    let mut input = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&header).ok()?);
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).ok()?));
    let sig = k
        .private
        .pkcs1v15_sign_prehash::<Sha512>(&Sha512::digest(input.as_bytes()))
        .ok()?;
    input.push('.');
    input.push_str(&URL_SAFE_NO_PAD.encode(sig));
    Some(input)
}

/// A fresh random token value: 32 bytes from the operating system, base64url (43
/// characters). Should the random source fail, a hash of a counter, the time and the
/// process id stands in (still unique in this process).
pub(crate) fn mint() -> String {
    let mut buf = [0u8; 32];
    if getrandom::fill(&mut buf).is_err() {
        static N: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let seed = format!(
            "{}:{nanos}:{}",
            N.fetch_add(1, Ordering::Relaxed),
            std::process::id()
        );
        buf.copy_from_slice(&Sha256::digest(seed.as_bytes()));
    }
    URL_SAFE_NO_PAD.encode(buf)
}

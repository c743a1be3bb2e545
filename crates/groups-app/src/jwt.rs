//! id_tokens: reading their claims, and verifying them against Globus
//! Auth's published keys (RS512: RSA PKCS#1 v1.5 with SHA-512).
//!
//! ```
//! use groups_app::jwt::{Jwks, verify_id_token};
//! use groups_app::AppErrorKind;
//!
//! let jwks = Jwks::parse(br#"{"keys": [{"kty": "RSA", "kid": "k1", "n": "sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw", "e": "AQAB"}]}"#).unwrap();
//! let err = verify_id_token("e30.e30.AAAA", &jwks, "CLIENT", "https://auth.globus.org", 0).unwrap_err();
//! assert_eq!(err.kind(), AppErrorKind::InvalidIdToken);
//! ```
//!
//! [`verify_id_token`] checks the header's algorithm, the signature with
//! the key of the header's `kid` (or the only key), the audience (the
//! app's client id), the issuer (the Auth URL) and the expiry (with five
//! minutes of leeway, as globus-sdk). Failures are plain messages that
//! never repeat the token.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::sha2::Sha512;
use rsa::{BoxedUint, PublicKey};

use crate::claims::decode_object;
use crate::error::{AppError, AppErrorKind};
use serde_json::{Map, Value};

/// Leeway on the expiry check, seconds.
pub const LEEWAY_SECS: u64 = 300;

/// The RSA keys of a JWKS document (Globus Auth's `/jwk.json`), by `kid`.
pub struct Jwks {
    keys: Vec<(Option<String>, PublicKey)>,
}

impl Jwks {
    /// Read a JWKS document (`{"keys": [{"kty": "RSA", "n", "e", "kid"}]}`);
    /// keys of other types are skipped.
    pub fn parse(body: &[u8]) -> Result<Jwks, AppError> {
        Self::parse_inner(body).map_err(|why| AppError::new(AppErrorKind::InvalidIdToken, why))
    }

    fn parse_inner(body: &[u8]) -> Result<Jwks, String> {
        let doc: Value =
            serde_json::from_slice(body).map_err(|e| format!("the JWKS is not JSON ({e})"))?;
        let list = doc
            .get("keys")
            .and_then(Value::as_array)
            .ok_or("the JWKS has no \"keys\" list")?;
        let mut keys = Vec::new();
        for k in list {
            if k.get("kty").and_then(Value::as_str) != Some("RSA") {
                continue;
            }
            let part = |name: &str| -> Result<Vec<u8>, String> {
                let s = k
                    .get(name)
                    .and_then(Value::as_str)
                    .ok_or_else(|| format!("a JWKS key has no {name:?}"))?;
                URL_SAFE_NO_PAD
                    .decode(s.trim_end_matches('='))
                    .map_err(|_| format!("a JWKS key's {name:?} is not base64url"))
            };
            let n = BoxedUint::from_be_slice_vartime(&part("n")?);
            let e = BoxedUint::from_be_slice_vartime(&part("e")?);
            let key = PublicKey::new(n, e).map_err(|e| format!("a JWKS key is unusable ({e})"))?;
            let kid = k.get("kid").and_then(Value::as_str).map(str::to_owned);
            keys.push((kid, key));
        }
        if keys.is_empty() {
            return Err("the JWKS has no RSA key".into());
        }
        Ok(Jwks { keys })
    }

    fn key(&self, kid: Option<&str>) -> Option<&PublicKey> {
        match kid {
            Some(kid) => self
                .keys
                .iter()
                .find(|(k, _)| k.as_deref() == Some(kid))
                .map(|(_, key)| key),
            None if self.keys.len() == 1 => Some(&self.keys[0].1),
            None => None,
        }
    }

    /// Whether a key with `kid` is known.
    pub(crate) fn has_kid(&self, kid: Option<&str>) -> bool {
        self.key(kid).is_some()
    }
}

/// The `kid` of a JWT's header, if it has a readable one.
pub(crate) fn header_kid(token: &str) -> Option<String> {
    let header = decode_object(token.split('.').next()?)?;
    header.get("kid")?.as_str().map(str::to_owned)
}

/// Verify the id_token `token` for the client `client_id` from the Auth
/// service `issuer` at `now_epoch` (see the [module docs](self)); answers
/// its claims. A failure is an [`AppErrorKind::InvalidIdToken`] error.
pub fn verify_id_token(
    token: &str,
    jwks: &Jwks,
    client_id: &str,
    issuer: &str,
    now_epoch: u64,
) -> Result<Map<String, Value>, AppError> {
    verify_inner(token, jwks, client_id, issuer, now_epoch)
        .map_err(|why| AppError::new(AppErrorKind::InvalidIdToken, why))
}

fn verify_inner(
    token: &str,
    jwks: &Jwks,
    client_id: &str,
    issuer: &str,
    now_epoch: u64,
) -> Result<Map<String, Value>, String> {
    let parts: Vec<&str> = token.split('.').collect();
    let [header, payload, signature] = parts[..] else {
        return Err("the id_token is not a JWT".into());
    };
    let head = decode_object(header).ok_or("the id_token's header is unreadable")?;
    match head.get("alg").and_then(Value::as_str) {
        Some("RS512") => {}
        Some(other) => {
            let other: String = other.chars().take(16).collect();
            return Err(format!("the id_token is signed with {other:?}, not RS512"));
        }
        None => return Err("the id_token's header names no algorithm".into()),
    }
    let kid = head.get("kid").and_then(Value::as_str);
    let key = jwks
        .key(kid)
        .ok_or("no key of Globus Auth's JWKS matches the id_token's kid")?;
    let sig = URL_SAFE_NO_PAD
        .decode(signature.trim_end_matches('='))
        .map_err(|_| "the id_token's signature is not base64url")?;
    let signed = &token[..header.len() + 1 + payload.len()];
    key.pkcs1v15_verify::<Sha512>(signed.as_bytes(), &sig)
        .map_err(|_| "the id_token's signature does not verify against Globus Auth's keys")?;
    let claims = decode_object(payload).ok_or("the id_token's claims are unreadable")?;
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(list)) => list.iter().any(|a| a.as_str() == Some(client_id)),
        _ => false,
    };
    if !aud_ok {
        return Err("the id_token is not for this app's client (audience)".into());
    }
    let iss = claims.get("iss").and_then(Value::as_str).unwrap_or("");
    if iss.trim_end_matches('/') != issuer.trim_end_matches('/') {
        return Err(format!(
            "the id_token was issued by {:?}, not {issuer:?}",
            iss.chars().take(100).collect::<String>()
        ));
    }
    match claims.get("exp").and_then(Value::as_u64) {
        Some(exp) if exp.saturating_add(LEEWAY_SECS) >= now_epoch => {}
        Some(_) => return Err("the id_token has expired".into()),
        None => return Err("the id_token has no expiry".into()),
    }
    if claims.get("sub").and_then(Value::as_str).is_none() {
        return Err("the id_token has no subject".into());
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_jwks_are_errors() {
        assert!(Jwks::parse(b"nope").is_err());
        assert!(Jwks::parse(br#"{"keys": []}"#).is_err());
        assert!(Jwks::parse(br#"{"keys": [{"kty": "RSA", "n": "!!", "e": "AQAB"}]}"#).is_err());
    }
}

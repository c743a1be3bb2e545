//! Reading a JWT's claims without verifying it (the `jwt` module does the
//! verification).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

/// The claims of a JWT's payload, or `None` if it is not a JWT with a JSON
/// object payload.
pub(crate) fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_header, payload, _sig) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    decode_object(payload)
}

pub(crate) fn decode_object(part: &str) -> Option<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}

/// The `sub` claim (the identity id) of an id_token.
pub(crate) fn unverified_sub(token: &str) -> Option<String> {
    unverified_claims(token)?
        .get("sub")?
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_sub() {
        let payload = URL_SAFE_NO_PAD.encode(br#"{"sub":"abc","aud":"x"}"#);
        assert_eq!(
            unverified_sub(&format!("e30.{payload}.sig")).as_deref(),
            Some("abc")
        );
        assert_eq!(unverified_sub("not-a-jwt"), None);
        assert_eq!(unverified_sub("a.b.c.d"), None);
        let arr = URL_SAFE_NO_PAD.encode(b"[1]");
        assert_eq!(unverified_sub(&format!("e30.{arr}.sig")), None);
    }
}

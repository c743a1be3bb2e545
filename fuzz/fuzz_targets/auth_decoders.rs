//! The Auth decoders of the client on arbitrary answers: token responses
//! (object or dependent-token array, 2xx or an OAuth2 error), introspection,
//! userinfo and identities. Never a panic; a token in the body never shows
//! in the error that describes it.
#![no_main]

use bytes::Bytes;
use groups_core::auth::SecretString;
use groups_core::auth::models::{IdentitiesResponse, TokenIntrospection, UserInfo};
use groups_core::auth::ops::parse_token_response;
use libfuzzer_sys::fuzz_target;

const STATUSES: [u16; 6] = [200, 400, 401, 403, 429, 500];

fuzz_target!(|data: &[u8]| {
    let Some((&pick, body)) = data.split_first() else {
        return;
    };
    let status = STATUSES[pick as usize % STATUSES.len()];
    let response = http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Bytes::copy_from_slice(body))
        .expect("valid response");
    match parse_token_response(&response) {
        Ok(tokens) => {
            for t in tokens.tokens() {
                // The token's text may occur in Debug by coincidence (a token "oken_"
                // is in the field name "token_type", or equal to the scope): compare
                // with the Debug of the same token data with an empty access token.
                let secret = t.access_token.expose_secret();
                let shown = format!("{t:?}");
                let mut blank = t.clone();
                blank.access_token = SecretString::new("");
                let baseline = format!("{blank:?}");
                assert!(
                    secret.len() < 4
                        || shown.matches(secret).count() == baseline.matches(secret).count(),
                    "Debug shows the access token"
                );
            }
            let _ = tokens.by_resource_server();
        }
        Err(e) => {
            let _ = (
                e.to_string(),
                format!("{e:?}"),
                e.auth_error().map(|a| a.kind()),
            );
        }
    }
    let _ = serde_json::from_slice::<TokenIntrospection>(body);
    let _ = serde_json::from_slice::<UserInfo>(body);
    let _ = serde_json::from_slice::<IdentitiesResponse>(body);
});

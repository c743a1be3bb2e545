//! Every error `code` the emulator answers with, declared once: the [`ErrorCode`] enum
//! that every error body is built from, and the [`ERROR_CODES`] table generated from the
//! same lines, so the table cannot miss a code or list one that does not exist; the
//! same for the emulated Globus Auth's OAuth2 errors ([`AuthErrorCode`],
//! [`AUTH_ERROR_CODES`]).

/// Declare a vocabulary of error codes: the enum, its wire names and the table of
/// meanings, from the same lines.
macro_rules! error_codes {
    (
        $(#[$emeta:meta])* enum $enum:ident;
        $(#[$tmeta:meta])* table $table:ident;
        $( $(#[$vmeta:meta])* $variant:ident => $text:literal, $meaning:literal; )+
    ) => {
        $(#[$emeta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $enum {
            $( $(#[$vmeta])* #[doc = $meaning] $variant ),+
        }

        impl $enum {
            /// Every code, in table order.
            pub const ALL: &'static [$enum] = &[$($enum::$variant),+];

            /// The wire spelling, e.g. `"NOT_FOUND"` or `"invalid_grant"`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($enum::$variant => $text),+
                }
            }

            /// What the code means (the second column of the table).
            pub fn meaning(self) -> &'static str {
                match self {
                    $($enum::$variant => $meaning),+
                }
            }
        }

        $(#[$tmeta])*
        pub const $table: &[(&str, &str)] = &[$(($text, $meaning)),+];
    };
}

error_codes! {
    /// An error `code` of the emulator (the `code` key of an error body, or of a
    /// per-identity error in a batch answer). [`ERROR_CODES`] describes each.
    enum ErrorCode;
    /// Every error `code` the emulator answers with, and what it means. Codes marked
    /// "(service)" are recorded from the real service; all others are the emulator's
    /// own choices (the service's codes for those cases are unknown).
    table ERROR_CODES;
    // whole-request errors of the API
    AuthenticationError => "AUTHENTICATION_ERROR",
        "401 (service): Authorization header missing or not `Bearer <token>`.";
    InvalidToken => "INVALID_TOKEN",
        "401 (service): unknown token while strict_tokens is on, or a token the emulator's Auth issued that has expired or was revoked.";
    NotFound => "NOT_FOUND",
        "404: no such group, subscription or route (also a group id that is not a UUID).";
    MethodNotAllowed => "METHOD_NOT_ALLOWED",
        "405: the path exists but not with this method (an `Allow` header lists the methods).";
    InsufficientScope => "INSUFFICIENT_SCOPE",
        "403: the token lacks the `all` scope for a write (or any Groups scope for a read); `provided_scopes` lists its scopes.";
    ConsentRequired => "ConsentRequired",
        "403 while an auth demand is set: the token lacks a scope the demand requires; `required_scopes` and `authorization_parameters.required_scopes` list the missing ones (the Globus Auth requirements error code).";
    AuthorizationRequired => "AuthorizationRequired",
        "401 while an auth demand is set: the token's login session does not meet it (identity, domain, MFA or age); `authorization_parameters` says what a new login must satisfy (the Globus Auth requirements error code).";
    GroupNotVisible => "GROUP_NOT_VISIBLE",
        "403: the group exists but the caller has no active, invited or pending membership in a private group.";
    Forbidden => "FORBIDDEN",
        "403: the caller's role does not allow the operation (update/delete/policies need an admin; batch verbs nobody in the caller's set may perform; subgroup creation without admin of the parent); also a control-plane call from a peer that is not loopback.";
    NotOwnIdentity => "NOT_OWN_IDENTITY",
        "403: preferences or membership fields named an identity outside the caller's identity set. Per identity in a batch: a self-service verb (accept, decline, join, leave, request_join) for an identity outside the caller's set.";
    NoMembership => "NO_MEMBERSHIP",
        "403 on membership_fields: the identity has no membership in the group. Per identity in a batch (service): the target has no membership.";
    SubscriptionAdminRequired => "SUBSCRIPTION_ADMIN_REQUIRED",
        "403: setting/replacing/clearing subscription_admin_verified_id needs an active admin of the subscription's group (old and new value).";
    ClearOnly => "CLEAR_ONLY",
        "403: PUT /v2/groups/{id} may only clear subscription_admin_verified_id (set it with .../subscription_admin_verified).";
    AmbiguousIdentities => "AMBIGUOUS_IDENTITIES",
        "400: an identity appears twice in one batch (under two verbs or twice in one); `ambiguous_identities` lists them.";
    GroupHasChildren => "GROUP_HAS_CHILDREN",
        "400: a group with subgroups cannot be deleted; delete the subgroups first.";
    SubgroupLimit => "SUBGROUP_LIMIT",
        "400: the tree already has 75 subgroups.";
    DepthLimit => "DEPTH_LIMIT",
        "400: the new group would be more than 4 levels below its root.";
    MembershipLimit => "MEMBERSHIP_LIMIT",
        "400: the caller has more than 1000 active memberships and cannot create groups.";
    InvalidStatus => "INVALID_STATUS",
        "422 on my_groups (BaseErrorModel): a `statuses` value is not a membership status.";
    InternalError => "INTERNAL_ERROR",
        "500: a bug in the emulator (a handler panicked, or the server wired the world wrongly); never caused by client input.";
    // per-identity errors inside a batch response (`errors.<verb>[]`)
    AlreadyActive => "ALREADY_ACTIVE",
        "batch (service): add/invite/join/request_join of an identity that is already active; nothing changed.";
    NotInvited => "NOT_INVITED",
        "batch: accept/decline of a membership that is not `invited`.";
    NotPending => "NOT_PENDING",
        "batch: approve/reject of a membership that is not `pending`.";
    NotActive => "NOT_ACTIVE",
        "batch: change_role/leave of a membership that is not `active`.";
    NotRemovable => "NOT_REMOVABLE",
        "batch: remove of a membership that is neither `active` nor `invited`.";
    CannotRemoveSelf => "CANNOT_REMOVE_SELF",
        "batch: remove of one of the caller's own identities (use leave).";
    AdminRequired => "ADMIN_REQUIRED",
        "batch: only admins may add/invite with role manager or admin, or remove an admin.";
    LastAdmin => "LAST_ADMIN",
        "batch: leave or demoting change_role would leave the group without an active admin.";
    PreviouslyLeft => "PREVIOUSLY_LEFT",
        "batch: add of an identity that left the group (invite it instead).";
    AddNotAllowed => "ADD_NOT_ALLOWED",
        "batch: add of an identity whose preference allow_add is false (invite it instead).";
    UnknownIdentity => "UNKNOWN_IDENTITY",
        "batch: add/invite of an identity the emulator does not know, while strict_identities is on.";
    JoinNotAllowed => "JOIN_NOT_ALLOWED",
        "batch: join on a group that is not `authenticated`-visible (the emulator's guess at the service's join policy).";
    HighAssurance => "HIGH_ASSURANCE",
        "batch: join on a high-assurance group.";
    JoinRequestsDisabled => "JOIN_REQUESTS_DISABLED",
        "batch: request_join on a group whose join_requests policy is false.";
    AlreadyPending => "ALREADY_PENDING",
        "batch: request_join while a join request is already pending.";
    // the server and the control plane
    PayloadTooLarge => "PAYLOAD_TOO_LARGE",
        "413: the request body is larger than the server's body limit.";
    PersistenceError => "PERSISTENCE_ERROR",
        "500: the change could not be saved to the state file and was rolled back.";
    EmulatorFault => "EMULATOR_FAULT",
        "any status: the answer of an injected fault rule without its own body.";
    InvalidJson => "INVALID_JSON",
        "422 on the control plane: the body is not valid JSON for the endpoint.";
    InvalidSeed => "INVALID_SEED",
        "400 on POST /_emulator/seed: the seed was refused (the world is unchanged).";
    InvalidState => "INVALID_STATE",
        "400 on PUT /_emulator/state: the state document was refused (the world is unchanged).";
    InvalidFault => "INVALID_FAULT",
        "422 on POST /_emulator/faults: a fault rule is not valid.";
}

error_codes! {
    /// An error of the emulated Globus Auth: the `error` of an OAuth2 error body
    /// `{"error", "error_description"}`, and the `code` of the Auth REST API's
    /// `errors[]`. [`AUTH_ERROR_CODES`] describes each.
    enum AuthErrorCode;
    /// Every `error` the emulated Globus Auth answers with (the OAuth2 vocabulary of
    /// RFC 6749 and RFC 6750), and what it means.
    table AUTH_ERROR_CODES;
    InvalidGrant => "invalid_grant",
        "400 on Auth's token endpoint (service): a code or refresh token that is unknown, used, expired or revoked, a PKCE verifier that does not match, or a redirect_uri or client other than the authorize request's.";
    InvalidClient => "invalid_client",
        "401 on Auth (service): a wrong client secret, an unknown client while strict clients are on, or a call that needs a confidential client without its credentials.";
    UnsupportedGrantType => "unsupported_grant_type",
        "400 on Auth's token endpoint (service): a grant_type the emulator does not serve.";
    InvalidScope => "invalid_scope",
        "400 on Auth (service): no scope, or a scope of no known resource server.";
    InvalidRequest => "invalid_request",
        "400 on Auth (service): a parameter missing, repeated, malformed or too long, or a body too large.";
    AccessDenied => "access_denied",
        "in the authorize redirect (service): the tester denied consent.";
    InvalidToken => "invalid_token",
        "401 on Auth's userinfo and REST API: the bearer token is missing, unknown, expired or revoked.";
    InsufficientScope => "insufficient_scope",
        "403 on Auth's userinfo: the token does not carry the openid scope.";
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::path::{Path, PathBuf};

    use super::*;

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    /// The crate's non-test source, file by file (test modules cut off at their
    /// `#[cfg(test)]`, and the `tests` directories of the source tree skipped).
    fn sources() -> Vec<(PathBuf, String)> {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&src, &mut files);
        files
            .into_iter()
            .filter(|p| !p.components().any(|c| c.as_os_str() == "tests"))
            .map(|p| {
                let text = std::fs::read_to_string(&p).unwrap();
                let text = match text.find("#[cfg(test)]") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                };
                (p, text)
            })
            .collect()
    }

    /// Upper-case string literals of the shape of an error code (`"A_B"`, at least
    /// two words), the way a code would be spelled if it bypassed [`ErrorCode`].
    fn code_like_literals(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        for part in text.split('"').skip(1).step_by(2) {
            let shaped = part.len() >= 3
                && part.contains('_')
                && !part.starts_with('_')
                && part
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c == '_' || c.is_ascii_digit());
            if shaped {
                out.push(part.to_owned());
            }
        }
        out
    }

    #[test]
    fn error_code_table_lists_every_code_used() {
        let table: BTreeSet<&str> = ERROR_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(table.len(), ERROR_CODES.len(), "a code is listed twice");
        let sources = sources();
        let codes_file = Path::new("codes.rs");

        // Every code the emulator can emit is in the table: error bodies are built from
        // `ErrorCode` only (the type system makes that so); and no source spells a
        // code-shaped literal outside this file, which would bypass the enum.
        for (path, text) in &sources {
            if path.ends_with(codes_file) {
                continue;
            }
            for lit in code_like_literals(text) {
                assert!(
                    table.contains(lit.as_str()),
                    "{} spells {lit:?}, which is not in ERROR_CODES",
                    path.display()
                );
            }
        }

        // Every listed code can be emitted: some source outside this file names its
        // variant (`ErrorCode::X`).
        let elsewhere: String = sources
            .iter()
            .filter(|(p, _)| !p.ends_with(codes_file))
            .map(|(_, t)| t.as_str())
            .collect();
        for code in ErrorCode::ALL {
            let name = format!("{code:?}");
            assert!(
                names_variant(&elsewhere, "ErrorCode", &name),
                "{} is listed but never emitted",
                code.as_str()
            );
            assert!(!code.meaning().is_empty());
            assert_eq!(
                ERROR_CODES
                    .iter()
                    .find(|(c, _)| *c == code.as_str())
                    .map(|(_, m)| *m),
                Some(code.meaning())
            );
        }
    }

    /// Whether `text` names `Enum::Variant` (not a longer enum or variant name).
    fn names_variant(text: &str, enum_name: &str, variant: &str) -> bool {
        let path = format!("{enum_name}::{variant}");
        text.match_indices(&path).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + path.len()..].chars().next();
            let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
            !before.is_some_and(word) && !after.is_some_and(word)
        })
    }

    #[test]
    fn auth_error_table_lists_every_auth_error_used() {
        let table: BTreeSet<&str> = AUTH_ERROR_CODES.iter().map(|(c, _)| *c).collect();
        assert_eq!(
            table.len(),
            AUTH_ERROR_CODES.len(),
            "an error is listed twice"
        );
        let elsewhere: String = sources()
            .iter()
            .filter(|(p, _)| !p.ends_with(Path::new("codes.rs")))
            .map(|(_, t)| t.clone())
            .collect();
        // Every Auth error is built from the enum: no source outside this file spells
        // `"error": "<literal>"` by hand.
        for lit in ["\"error\": \"", "\"error\":\""] {
            assert!(
                !elsewhere.contains(lit),
                "an OAuth error is spelt outside AuthErrorCode"
            );
        }
        for code in AuthErrorCode::ALL {
            let name = format!("{code:?}");
            assert!(
                names_variant(&elsewhere, "AuthErrorCode", &name),
                "{} is listed but never emitted",
                code.as_str()
            );
            assert!(!code.meaning().is_empty());
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_')
            );
            assert_eq!(
                AUTH_ERROR_CODES
                    .iter()
                    .find(|(c, _)| *c == code.as_str())
                    .map(|(_, m)| *m),
                Some(code.meaning())
            );
        }
    }
}

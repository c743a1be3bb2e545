//! `USER` arguments: an identity id, or a username resolved through Globus
//! Auth's identities lookup.

use groups_types::IdentityId;

use crate::error::CliError;
use crate::session::Session;

/// A user as given on the command line or in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserRef {
    /// An identity id.
    Id(IdentityId),
    /// A username (contains `@`).
    Username(String),
}

impl UserRef {
    /// Parse a `USER`: a UUID is an identity id, text with an `@` a
    /// username; anything else is refused with a message saying why.
    pub fn parse(text: &str) -> Result<UserRef, String> {
        let t = text.trim();
        if let Ok(id) = t.parse::<IdentityId>() {
            return Ok(UserRef::Id(id));
        }
        if t.contains('@') && !t.chars().any(char::is_whitespace) {
            return Ok(UserRef::Username(t.to_owned()));
        }
        Err(format!(
            "{t:?} is neither an identity id (a UUID) nor a username (with an @)"
        ))
    }
}

/// Resolve one `USER` to an identity id.
pub async fn resolve_user(
    session: &Session,
    text: &str,
    provision: bool,
) -> Result<IdentityId, CliError> {
    match UserRef::parse(text).map_err(CliError::Usage)? {
        UserRef::Id(id) => Ok(id),
        UserRef::Username(name) => {
            let found = session
                .lookup_usernames(std::slice::from_ref(&name), provision)
                .await?;
            found
                .get(&name.to_lowercase())
                .map(|(id, _)| *id)
                .ok_or_else(|| unknown_usernames(&[name]))
        }
    }
}

/// The usage error for usernames Globus Auth does not know.
pub fn unknown_usernames(names: &[String]) -> CliError {
    let shown: Vec<&str> = names.iter().take(20).map(String::as_str).collect();
    let more = if names.len() > shown.len() {
        format!(" and {} more", names.len() - shown.len())
    } else {
        String::new()
    };
    CliError::usage(format!(
        "Couldn't determine identity for username{} {}{more} (Globus Auth does not know {})",
        if names.len() == 1 { "" } else { "s" },
        shown.join(", "),
        if names.len() == 1 { "it" } else { "them" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_parse() {
        assert!(matches!(
            UserRef::parse("ae332d86-d274-11e5-b885-b31714a110e9"),
            Ok(UserRef::Id(_))
        ));
        assert_eq!(
            UserRef::parse(" ada@example.org "),
            Ok(UserRef::Username("ada@example.org".into()))
        );
        let err = UserRef::parse("ae332d86-d274").unwrap_err();
        assert!(err.contains("ae332d86-d274"), "{err}");
    }
}

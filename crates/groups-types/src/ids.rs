//! Identifier newtypes. Each wraps a UUID and is written as the lowercase
//! hyphenated string the API uses.

use std::fmt;

/// A string that is not a valid identifier of the expected kind.
///
/// ```
/// use groups_types::GroupId;
///
/// let err = "not-a-uuid".parse::<GroupId>().unwrap_err();
/// assert_eq!(err.to_string(), "invalid group id \"not-a-uuid\": expected a UUID");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdParseError {
    kind: &'static str,
    input: String,
}

impl IdParseError {
    pub(crate) fn new(kind: &'static str, input: &str) -> Self {
        // Keep the message readable if someone passes a whole document.
        let input: String = input.chars().take(80).collect();
        IdParseError { kind, input }
    }

    /// Which kind of id was expected: `"group"`, `"identity"` or `"subscription"`.
    pub fn kind(&self) -> &'static str {
        self.kind
    }

    /// The rejected input (at most 80 characters of it).
    pub fn input(&self) -> &str {
        &self.input
    }
}

impl fmt::Display for IdParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid {} id {:?}: expected a UUID",
            self.kind, self.input
        )
    }
}

impl std::error::Error for IdParseError {}

id_type!(
    /// The id of a group.
    ///
    /// ```
    /// use groups_types::GroupId;
    /// let id: GroupId = "d3974728-6458-11e4-b72d-123139141556".parse()?;
    /// assert_eq!(id.to_string(), "d3974728-6458-11e4-b72d-123139141556");
    /// # Ok::<(), groups_types::IdParseError>(())
    /// ```
    GroupId,
    "group"
);

id_type!(
    /// The id of a Globus Auth identity.
    IdentityId,
    "identity"
);

id_type!(
    /// The id of a Globus subscription.
    SubscriptionId,
    "subscription"
);

/// One identity is a collection of one, so every batch builder method takes
/// a single id as readily as a list (and never splits it into characters).
impl IntoIterator for IdentityId {
    type Item = IdentityId;
    type IntoIter = std::iter::Once<IdentityId>;

    fn into_iter(self) -> Self::IntoIter {
        std::iter::once(self)
    }
}

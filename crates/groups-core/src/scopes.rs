//! Globus Auth scopes for the Groups service.
//!
//! ```
//! use groups_core::scopes::{GroupsScopes, Scope};
//!
//! assert_eq!(
//!     GroupsScopes::all().to_string(),
//!     "urn:globus:auth:scope:groups.api.globus.org:all"
//! );
//! let s = Scope::new("https://auth.globus.org/scopes/abc/all")
//!     .unwrap()
//!     .with_dependency(GroupsScopes::view_my_groups_and_memberships())
//!     .optional(true);
//! assert_eq!(
//!     s.to_string(),
//!     "*https://auth.globus.org/scopes/abc/all[urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships]"
//! );
//! ```

use std::fmt;

use crate::error::GroupsError;

/// The resource server of the Groups API.
pub const GROUPS_RESOURCE_SERVER: &str = "groups.api.globus.org";

/// A scope: a scope string, an optional flag and dependent scopes.
///
/// It renders as globus-sdk does: `*` before an optional scope, dependencies
/// in brackets separated by single spaces, e.g. `a[b *c[d]]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Scope {
    scope_string: String,
    optional: bool,
    dependencies: Vec<Scope>,
}

impl Scope {
    /// A scope from a bare scope string. The string must be non-empty and
    /// contain none of `[`, `]`, `*` or whitespace.
    pub fn new(scope_string: impl Into<String>) -> Result<Self, GroupsError> {
        let s = scope_string.into();
        if s.is_empty() || s.contains(['[', ']', '*']) || s.chars().any(char::is_whitespace) {
            return Err(GroupsError::invalid_input(format!(
                "scope string {s:?} is empty or contains '[', ']', '*' or whitespace"
            )));
        }
        Ok(Scope {
            scope_string: s,
            optional: false,
            dependencies: Vec::new(),
        })
    }

    /// The URN form `urn:globus:auth:scope:{resource_server}:{name}`.
    pub fn urn(resource_server: &str, name: &str) -> Result<Self, GroupsError> {
        Scope::new(format!("urn:globus:auth:scope:{resource_server}:{name}"))
    }

    /// The URL form `https://auth.globus.org/scopes/{resource_server}/{name}`.
    pub fn url(resource_server: &str, name: &str) -> Result<Self, GroupsError> {
        Scope::new(format!(
            "https://auth.globus.org/scopes/{resource_server}/{name}"
        ))
    }

    /// Mark the scope optional (rendered with a leading `*`).
    pub fn optional(mut self, optional: bool) -> Self {
        self.optional = optional;
        self
    }

    /// Add a dependent scope.
    pub fn with_dependency(mut self, dependency: Scope) -> Self {
        self.dependencies.push(dependency);
        self
    }

    /// The bare scope string.
    pub fn scope_string(&self) -> &str {
        &self.scope_string
    }

    /// Whether the scope is optional.
    pub fn is_optional(&self) -> bool {
        self.optional
    }

    /// The dependent scopes.
    pub fn dependencies(&self) -> &[Scope] {
        &self.dependencies
    }

    fn known(s: &'static str) -> Self {
        Scope {
            scope_string: s.to_owned(),
            optional: false,
            dependencies: Vec::new(),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.optional {
            f.write_str("*")?;
        }
        f.write_str(&self.scope_string)?;
        if !self.dependencies.is_empty() {
            f.write_str("[")?;
            for (i, d) in self.dependencies.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                fmt::Display::fmt(d, f)?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

/// Render several scopes as one space-separated request string.
///
/// An empty list is an invalid-input error (an empty scope request is never
/// meaningful).
pub fn serialize_scopes<'a>(
    scopes: impl IntoIterator<Item = &'a Scope>,
) -> Result<String, GroupsError> {
    let mut out = String::new();
    for s in scopes {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&s.to_string());
    }
    if out.is_empty() {
        return Err(GroupsError::invalid_input("no scopes to request"));
    }
    Ok(out)
}

/// The scopes of the Groups resource server.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct GroupsScopes;

impl GroupsScopes {
    /// The resource server, `groups.api.globus.org`.
    pub const RESOURCE_SERVER: &'static str = GROUPS_RESOURCE_SERVER;
    /// `urn:globus:auth:scope:groups.api.globus.org:all`.
    pub const ALL: &'static str = "urn:globus:auth:scope:groups.api.globus.org:all";
    /// `urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships`.
    pub const VIEW_MY_GROUPS_AND_MEMBERSHIPS: &'static str =
        "urn:globus:auth:scope:groups.api.globus.org:view_my_groups_and_memberships";

    /// Full access to the Groups API (needed for every write call).
    pub fn all() -> Scope {
        Scope::known(Self::ALL)
    }

    /// Read-only access to the caller's groups and memberships.
    pub fn view_my_groups_and_memberships() -> Scope {
        Scope::known(Self::VIEW_MY_GROUPS_AND_MEMBERSHIPS)
    }

    /// The scopes a Groups client requires by default, as in globus-sdk:
    /// only [`GroupsScopes::view_my_groups_and_memberships`]. Apps that call
    /// write operations must request [`GroupsScopes::all`] as well.
    pub fn default_scope_requirements() -> Vec<Scope> {
        vec![Self::view_my_groups_and_memberships()]
    }
}

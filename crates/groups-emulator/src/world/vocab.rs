//! The closed vocabularies of the rules: roles, statuses, visibilities and batch verbs.
//! Each is declared once with [`closed_enum!`], which derives the list of values, the
//! wire names and the conversions both ways from the same lines.

use serde::{Deserialize, Serialize};

/// Declare a closed enum whose variants each have one wire name. Generates `ALL` (every
/// value, in declaration order), `NAMES` (the wire names, same order), `COUNT`,
/// `as_str`, `parse` and `index` (the position in `ALL`).
macro_rules! closed_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        #[allow(dead_code)]
        impl $name {
            /// Every value, in declaration order.
            $vis const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The wire names, in the order of `ALL`.
            $vis const NAMES: &'static [&'static str] = &[$($text),+];
            /// Number of values.
            $vis const COUNT: usize = Self::NAMES.len();

            /// The wire name.
            $vis fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// The value whose wire name is `s`.
            $vis fn parse(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)+
                    _ => None,
                }
            }

            /// Position in `ALL` (a dense index for per-value arrays).
            $vis fn index(self) -> usize {
                self as usize
            }
        }
    };
}

closed_enum! {
    /// A membership role, ordered by power.
    #[derive(PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub(super) enum Role {
        Member => "member",
        Manager => "manager",
        Admin => "admin",
    }
}

closed_enum! {
    /// A membership status.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub(super) enum Status {
        Active => "active",
        Invited => "invited",
        Pending => "pending",
        Rejected => "rejected",
        Removed => "removed",
        Left => "left",
        Declined => "declined",
    }
}

impl Status {
    /// Statuses that let a caller see a private group.
    pub(super) fn grants_visibility(self) -> bool {
        matches!(self, Status::Active | Status::Invited | Status::Pending)
    }
}

closed_enum! {
    /// `group_visibility`.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub(super) enum Visibility {
        Authenticated => "authenticated",
        Private => "private",
    }
}

closed_enum! {
    /// `group_members_visibility`.
    #[derive(Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub(super) enum MemberVisibility {
        Members => "members",
        Managers => "managers",
    }
}

closed_enum! {
    /// A batch verb (the wire names of `BatchVerb`). Declared in processing order,
    /// which is alphabetical, the order of `groups_types::BatchVerb::ALL`.
    pub(super) enum Verb {
        Accept => "accept",
        Add => "add",
        Approve => "approve",
        ChangeRole => "change_role",
        Decline => "decline",
        Invite => "invite",
        Join => "join",
        Leave => "leave",
        Reject => "reject",
        Remove => "remove",
        RequestJoin => "request_join",
    }
}

impl Verb {
    /// The role a caller identity needs, for the management verbs.
    pub(super) fn needs_role(self) -> Option<Role> {
        match self {
            Verb::Add | Verb::Invite | Verb::Approve | Verb::Reject | Verb::Remove => {
                Some(Role::Manager)
            }
            Verb::ChangeRole => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether the verb's items carry a `role`.
    pub(super) fn has_role(self) -> bool {
        matches!(self, Verb::Add | Verb::Invite | Verb::ChangeRole)
    }

    /// Whether the verb's items carry a `status_reason`.
    pub(super) fn has_reason(self) -> bool {
        !matches!(self, Verb::Join | Verb::RequestJoin | Verb::ChangeRole)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The serde names and the macro's names must agree, else state files and
    /// answers would spell a value two ways.
    fn serde_names_agree<T: Serialize + Copy>(all: &[T], names: &[&str]) {
        assert_eq!(all.len(), names.len());
        for (v, n) in all.iter().zip(names) {
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(n));
        }
    }

    #[test]
    fn names_round_trip_and_match_serde() {
        for (i, r) in Role::ALL.iter().enumerate() {
            assert_eq!(Role::parse(r.as_str()), Some(*r));
            assert_eq!(r.index(), i);
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(*s));
        }
        for v in Verb::ALL {
            assert_eq!(Verb::parse(v.as_str()), Some(*v));
        }
        assert_eq!(Status::COUNT, 7);
        assert_eq!(Verb::COUNT, 11);
        assert_eq!(Role::parse("owner"), None);
        serde_names_agree(Role::ALL, Role::NAMES);
        serde_names_agree(Status::ALL, Status::NAMES);
        serde_names_agree(Visibility::ALL, Visibility::NAMES);
        serde_names_agree(MemberVisibility::ALL, MemberVisibility::NAMES);
    }

    #[test]
    fn verbs_match_the_sdk_vocabulary_in_order() {
        let sdk: Vec<&str> = groups_types::BatchVerb::ALL
            .iter()
            .map(|v| v.as_str())
            .collect();
        assert_eq!(Verb::NAMES, sdk.as_slice());
    }
}

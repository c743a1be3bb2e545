//! # groups-types
//!
//! The data model of the Globus Groups v2 API: identifiers, open enums,
//! request payloads, response documents and error bodies. It depends only
//! on `serde`, `serde_json` and `uuid` and performs no IO, so it serves
//! anyone who models Groups data, whatever client (or server) they use.
//!
//! It is the bottom layer of the workspace: `groups-core` (sans-IO client)
//! builds on it, `groups-hyper` and `groups-manager` on the core, and
//! `groups-emulator` (the local service) uses it for its wire formats.
//!
//! ## What survives a changing API
//! * Every enum is open: an unknown value is kept as `Unknown(..)` and
//!   written back byte for byte.
//! * Every model keeps keys it does not know in `extra` (a [`JsonObject`],
//!   one pointer until a key is present) and writes them back.
//! * Optional fields are [`Nullable`]: absent, `null` and a value stay
//!   distinct, so a document round-trips exactly and an update can say
//!   "clear this" apart from "leave it alone".
//!
//! ```
//! use groups_types::{BatchMembershipActions, Group, GroupRole, IdentityId};
//!
//! let group: Group = serde_json::from_str(r#"{
//!     "id": "d3974728-6458-11e4-b72d-123139141556",
//!     "name": "Claptrap's Rough Riders",
//!     "parent_id": null,
//!     "my_memberships": [{"group_id": "d3974728-6458-11e4-b72d-123139141556",
//!         "identity_id": "ae332d86-d274-11e5-b885-b31714a110e9",
//!         "username": "sirosen@globusid.org", "role": "captain", "status": "active"}]
//! }"#).unwrap();
//! let me = &group.membership_list()[0];
//! assert_eq!(me.role, GroupRole::Unknown("captain".into()));
//!
//! let actions = BatchMembershipActions::new().add_members([me.identity_id], GroupRole::Manager);
//! assert_eq!(actions.len(), 1);
//! ```
//!
//! ## Cargo features
//! * `fixture` (off by default): the `fixture` module, a conformance checker
//!   that maps a fixture file name to its model and verifies the document
//!   round-trips. It is test tooling, not data, so only test suites enable it.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[macro_use]
#[doc(hidden)]
pub mod macros;

mod batch;
mod enums;
pub mod error_body;
#[cfg(feature = "fixture")]
#[cfg_attr(docsrs, doc(cfg(feature = "fixture")))]
pub mod fixture;
mod group;
mod ids;
mod nullable;
mod object;
mod payloads;

#[cfg(test)]
mod proptests;

pub use batch::{
    AllowedActions, BatchErrors, BatchItem, BatchMembershipActions, BatchMembershipResult,
    MembershipError,
};
pub use enums::{
    BatchVerb, GroupInclude, GroupMemberVisibility, GroupRequiredSignupFields, GroupRole,
    GroupType, GroupVisibility, MembershipStatus,
};
pub use error_body::{
    AuthError, AuthorizationParameters, BadRequestError, BaseError, ForbiddenError, StringOrList,
    ValidationError, ValidationErrorBody,
};
pub use group::{
    ConnectorSubscriptionInfo, Group, GroupChildren, GroupStatusCounts, GroupStatuses,
    GroupSubscription, Membership, PolicyDocument, SubscriptionInfo, SubscriptionInfoLimited,
    SubscriptionVerified, TimeoutData,
};
pub use ids::{GroupId, IdParseError, IdentityId, SubscriptionId};
pub use nullable::Nullable;
pub use object::JsonObject;
pub use payloads::{
    GroupCreate, GroupPolicies, GroupUpdate, IdentityPreferences, IdentityPreferencesMap,
    MembershipFields, MembershipFieldsMap, SubscriptionAdminVerifiedUpdate,
};

/// Re-exported so users name the same `serde_json` the models use.
pub use serde_json;
/// Re-exported so users name the same `uuid` the ids use.
pub use uuid;

//! Every success decoder of the client on arbitrary bytes: the first byte
//! picks the decoder, the rest is the body. A body that does not decode must
//! be a decode error naming a JSON path, never a panic.
#![no_main]

use bytes::Bytes;
use groups_core::Operation;
use groups_core::ops::*;
use groups_types::*;
use libfuzzer_sys::fuzz_target;

const GID: &str = "4c1d7e2a-9b3f-4a60-8e15-7f20c0de0a01";
const SID: &str = "b7e3c2d1-58f4-4e0a-9c6d-3a1b2c4d5e6f";

fn check<T>(result: Result<T, groups_core::GroupsError>) {
    if let Err(e) = result {
        let d = e.decode_error().expect("a 2xx failure is a decode error");
        assert!(!d.path.is_empty());
        let _ = (e.to_string(), format!("{e:?}"));
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let r = || {
        http::Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .body(Bytes::copy_from_slice(body))
            .expect("valid response")
    };
    let actions = BatchMembershipActions::new();
    let create = GroupCreate::new("n");
    let update = GroupUpdate::new();
    let policies = GroupPolicies::partial();
    let prefs = IdentityPreferencesMap::new();
    let fields = MembershipFieldsMap::new();
    match which % 18 {
        0 => check(GetMyGroups::new().parse_response(r())),
        1 => check(GetStatuses::new().parse_response(r())),
        2 => check(CreateGroup::new(&create).parse_response(r())),
        3 => check(GetGroup::new(GID).parse_response(r())),
        4 => check(UpdateGroup::new(GID, &update).parse_response(r())),
        5 => check(BatchMembershipAction::new(GID, &actions).parse_response(r())),
        6 => check(DeleteGroup::new(GID).parse_response(r())),
        7 => check(GetChildren::new(GID).parse_response(r())),
        8 => check(GetGroupPolicies::new(GID).parse_response(r())),
        9 => check(SetGroupPolicies::new(GID, &policies).parse_response(r())),
        10 => check(GetIdentityPreferences::new().parse_response(r())),
        11 => check(SetIdentityPreferences::new(&prefs).parse_response(r())),
        12 => check(GetMembershipFields::new(GID).parse_response(r())),
        13 => check(SetMembershipFields::new(GID, &fields).parse_response(r())),
        14 => check(GetGroupBySubscriptionId::new(SID).parse_response(r())),
        15 => check(SetSubscriptionAdminVerified::new(GID, SID).parse_response(r())),
        16 => check(ClearSubscriptionAdminVerified::new(GID).parse_response(r())),
        _ => {
            // The models alone, and a round trip of whatever decodes: what
            // was read is written back to equal JSON.
            if let Ok(group) = serde_json::from_slice::<Group>(body) {
                let written = serde_json::to_value(&group).expect("serializes");
                let again: Group = serde_json::from_value(written.clone()).expect("reads back");
                assert_eq!(serde_json::to_value(&again).expect("serializes"), written);
            }
            if let Ok(result) = serde_json::from_slice::<BatchMembershipResult>(body) {
                let written = serde_json::to_value(&result).expect("serializes");
                let again: BatchMembershipResult =
                    serde_json::from_value(written.clone()).expect("reads back");
                assert_eq!(serde_json::to_value(&again).expect("serializes"), written);
            }
        }
    }
});

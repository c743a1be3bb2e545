//! Benchmarks of the Globus Groups SDK (not published).
//!
//! The `groups-bench` binary runs every comparison of `cargo xtask bench`
//! (client overhead against bare hyper, the official Python and JavaScript
//! SDKs, decoding, the emulator as a server against fauxbus and a minimal
//! hyper server, batch scaling, memory) and writes `BENCHMARKS.md` plus a
//! JSON file. This library holds the parts shared by the binary and the
//! criterion bench `benches/decode.rs`: the synthetic `get_my_groups`
//! document and the small statistics helpers.
//!
//! ```
//! let body = groups_bench::my_groups_json(3);
//! let groups: Vec<groups_types::Group> = serde_json::from_slice(&body).unwrap();
//! assert_eq!(groups.len(), 3);
//! assert_eq!(groups_bench::median(&mut [3.0, 1.0, 2.0]), 2.0);
//! ```

use std::fmt::Write as _;
use std::time::Duration;

use uuid::Uuid;

pub mod plain;

/// A deterministic UUID for benchmark fixtures: `kind` picks a namespace
/// (group, identity, ...) and `n` the item.
pub fn bench_uuid(kind: u16, n: u64) -> Uuid {
    // Version 4 / RFC 4122 variant bits set so every parser accepts it.
    let hi: u64 = 0xb3e0_0000_0000_4000 | (u64::from(kind) << 16);
    let lo: u64 = 0x8000_0000_0000_0000 | (n & 0x3fff_ffff_ffff_ffff);
    Uuid::from_u64_pair(hi, lo)
}

/// Namespace of group ids in [`bench_uuid`].
pub const KIND_GROUP: u16 = 1;
/// Namespace of identity ids in [`bench_uuid`].
pub const KIND_IDENTITY: u16 = 2;

/// A `GET /v2/groups/my_groups` response body with `n` groups, shaped like
/// the service's (and the emulator's) answer: every group carries its
/// `my_memberships` (every third group two linked identities, the others
/// one), the two embedded visibility policies, session fields, and a
/// description on most groups. Deterministic: the same `n` gives the same
/// bytes.
pub fn my_groups_json(n: usize) -> Vec<u8> {
    let me = bench_uuid(KIND_IDENTITY, 1);
    let linked = bench_uuid(KIND_IDENTITY, 2);
    let roles = ["member", "manager", "admin", "member"];
    let visibility = ["private", "authenticated"];
    let members_visibility = ["managers", "members"];
    let mut out = String::with_capacity(n * 900 + 2);
    out.push('[');
    for i in 0..n {
        if i > 0 {
            out.push(',');
        }
        let gid = bench_uuid(KIND_GROUP, i as u64);
        let parent = if i % 5 == 4 {
            format!("\"{}\"", bench_uuid(KIND_GROUP, (i - 1) as u64))
        } else {
            "null".to_owned()
        };
        let description = if i % 4 == 0 {
            String::new()
        } else {
            format!(
                "\"description\":\"Benchmark group number {i}, used to measure decoding of large listings.\","
            )
        };
        let _ = write!(
            out,
            "{{\"id\":\"{gid}\",\"name\":\"bench group {i}\",{description}\"parent_id\":{parent},\
             \"group_type\":\"regular\",\"enforce_session\":false,\"session_limit\":28800,\
             \"session_timeouts\":{{}},\"my_memberships\":["
        );
        let identities: &[(Uuid, &str)] = if i % 3 == 0 {
            &[(me, "bench@example.org"), (linked, "bench@globusid.org")]
        } else {
            &[(me, "bench@example.org")]
        };
        for (k, (id, username)) in identities.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(
                out,
                "{{\"group_id\":\"{gid}\",\"identity_id\":\"{id}\",\"username\":\"{username}\",\
                 \"role\":\"{role}\",\"status\":\"active\",\"status_reason\":null,\
                 \"invite_email_address\":null,\"updated\":\"2026-11-28T12:{m:02}:{s:02}+00:00\",\
                 \"invite_time\":null,\"membership_fields\":{{}}}}",
                role = roles[(i + k) % roles.len()],
                m = i % 60,
                s = (i / 60) % 60,
            );
        }
        let _ = write!(
            out,
            "],\"policies\":{{\"group_visibility\":\"{}\",\"group_members_visibility\":\"{}\"}}}}",
            visibility[i % 2],
            members_visibility[(i / 2) % 2]
        );
    }
    out.push(']');
    out.into_bytes()
}

/// The median of `samples` (sorted in place); `NaN` for an empty slice.
pub fn median(samples: &mut [f64]) -> f64 {
    percentile(samples, 50.0)
}

/// The `p`-th percentile (nearest rank) of `samples`, sorted in place;
/// `NaN` for an empty slice.
pub fn percentile(samples: &mut [f64], p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Seconds as `f64`.
pub fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_listing_decodes_into_the_typed_model_and_is_deterministic() {
        let body = my_groups_json(30);
        assert_eq!(body, my_groups_json(30));
        let groups: Vec<groups_types::Group> = serde_json::from_slice(&body).unwrap();
        assert_eq!(groups.len(), 30);
        assert_eq!(groups[0].membership_list().len(), 2);
        assert_eq!(groups[1].membership_list().len(), 1);
        let value: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(value.as_array().unwrap().len(), 30);
    }

    #[test]
    fn percentiles_use_nearest_rank() {
        let mut v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 99.0), 99.0);
        assert_eq!(percentile(&mut v, 50.0), 50.0);
        assert_eq!(percentile(&mut v, 100.0), 100.0);
        assert!(median(&mut []).is_nan());
    }

    #[test]
    fn bench_uuids_are_distinct_per_kind_and_index() {
        assert_ne!(bench_uuid(KIND_GROUP, 1), bench_uuid(KIND_IDENTITY, 1));
        assert_ne!(bench_uuid(KIND_GROUP, 1), bench_uuid(KIND_GROUP, 2));
        assert_eq!(bench_uuid(KIND_GROUP, 7).get_version_num(), 4);
    }
}

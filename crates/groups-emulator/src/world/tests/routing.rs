//! Tests: routing.

use super::*;

#[test]
fn routes_fixed_paths_before_group_ids_and_404_for_bad_ids() {
    let mut t = T::new();
    assert_eq!(t.get("a", "/v2/groups/my_groups").status, 200);
    assert_eq!(t.get("a", "/v2/groups/statuses").status, 200);
    let r = t.get("a", "/v2/groups/not-a-uuid");
    assert_eq!(r.status, 404);
    assert_eq!(r.code().as_deref(), Some("NOT_FOUND"));
    assert_eq!(
        t.get("a", "/v2/groups/00000000-0000-4000-8000-000000000009")
            .status,
        404
    );
    assert_eq!(t.get("a", "/v2/nothing").status, 404);
    assert_eq!(t.get("a", "/v2/groups/x/unknown").status, 404);
    assert_eq!(t.get("a", "/v2/subscription_info/zzz").status, 404);
    assert_eq!(t.get("a", "/").status, 404);
}

#[test]
fn wrong_method_is_405_with_json_and_allow_header() {
    let mut t = T::new();
    let r = t.call("a", Method::DELETE, "/v2/groups/my_groups", None);
    assert_eq!(r.status, 405);
    assert_eq!(r.code().as_deref(), Some("METHOD_NOT_ALLOWED"));
    assert!(r.headers.iter().any(|(k, v)| k == "allow" && v == "GET"));
    assert_eq!(t.get("a", "/v2/groups").status, 405);
    assert_eq!(
        t.call("a", Method::PATCH, "/v2/preferences", None).status,
        405
    );
    let c = t.caller("a");
    let headers = HeaderMap::new();
    let req = ApiRequest {
        method: &Method::POST,
        path: "/v2/groups",
        query: None,
        headers: &headers,
        body: b"{}",
    };
    // handle_read with a write is a wiring error, reported (not a panic)
    assert_eq!(t.w.handle_read(&c, &req, NOW, &t.policy).status, 500);
}

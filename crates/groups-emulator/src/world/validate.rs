//! Input checking that answers like FastAPI/pydantic v2: every problem becomes
//! one `{type, loc, msg, input[, ctx]}` item of a 422 `HTTPValidationError`.
//! Nothing here panics on any input, and the size of a 422 answer is bounded whatever
//! the input: at most [`MAX_REPORTED_ISSUES`] items, each echoing at most a short form
//! of its input.

use groups_types::{GroupId, IdentityId, SubscriptionId};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::resp;
use super::types::{ApiResponse, MAX_REPORTED_ISSUES};

/// Inputs whose JSON is longer than this many bytes are echoed in a short form.
const ECHO_BYTES: usize = 256;
/// Characters of a long string input that are echoed.
const ECHO_PREFIX_CHARS: usize = 64;

/// An I/O sink that accepts a fixed number of bytes, then fails (stops serialization).
struct Budget(usize);

impl std::io::Write for Budget {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if buf.len() > self.0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        self.0 -= buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The input as an error item shows it: itself when small, else a short description
/// (a string's first characters and length, a list's or object's size). The cost is
/// bounded by [`ECHO_BYTES`] plus the prefix, not by the input.
pub(super) fn echo(input: &Value) -> Value {
    if serde_json::to_writer(Budget(ECHO_BYTES), input).is_ok() {
        return input.clone();
    }
    Value::String(match input {
        Value::String(s) => {
            let prefix: String = s.chars().take(ECHO_PREFIX_CHARS).collect();
            format!("{prefix}... ({} bytes, cut)", s.len())
        }
        Value::Array(a) => format!("<list of {} items, not shown>", a.len()),
        Value::Object(o) => format!("<object of {} keys, not shown>", o.len()),
        _ => "<value not shown>".to_owned(),
    })
}

/// One segment of a `loc`.
#[derive(Clone, Copy, Debug)]
pub(super) enum Seg<'a> {
    K(&'a str),
    I(usize),
}

fn loc_value(loc: &[Seg<'_>]) -> Value {
    Value::Array(
        loc.iter()
            .map(|s| match s {
                Seg::K(k) => Value::String((*k).to_owned()),
                Seg::I(i) => Value::from(*i),
            })
            .collect(),
    )
}

/// Collected validation problems (at most [`MAX_REPORTED_ISSUES`] kept; the others are
/// only counted).
#[derive(Debug, Default)]
pub(super) struct Issues {
    items: Vec<Value>,
    omitted: usize,
}

impl Issues {
    /// Room for one more item? Counts the item as omitted when not.
    fn room(&mut self) -> bool {
        if self.items.len() < MAX_REPORTED_ISSUES {
            true
        } else {
            self.omitted += 1;
            false
        }
    }

    pub(super) fn push(&mut self, ty: &str, loc: &[Seg<'_>], msg: &str, input: &Value) {
        if !self.room() {
            return;
        }
        self.items.push(json!({
            "type": ty, "loc": loc_value(loc), "msg": msg, "input": echo(input),
        }));
    }

    pub(super) fn push_ctx(
        &mut self,
        ty: &str,
        loc: &[Seg<'_>],
        msg: &str,
        input: &Value,
        ctx: Value,
    ) {
        if !self.room() {
            return;
        }
        self.items.push(json!({
            "type": ty, "loc": loc_value(loc), "msg": msg, "input": echo(input), "ctx": ctx,
        }));
    }

    /// A list (or a batch) longer than `max` items (pydantic's `too_long`).
    pub(super) fn too_long(&mut self, loc: &[Seg<'_>], what: &str, max: usize, actual: usize) {
        self.push_ctx(
            "too_long",
            loc,
            &format!("{what} should have at most {max} items after validation, not {actual}"),
            &Value::Null,
            json!({ "field_type": what, "max_length": max, "actual_length": actual }),
        );
    }

    pub(super) fn missing(&mut self, loc: &[Seg<'_>], parent: &Value) {
        self.push("missing", loc, "Field required", parent);
    }

    pub(super) fn extra(&mut self, loc: &[Seg<'_>], input: &Value) {
        self.push(
            "extra_forbidden",
            loc,
            "Extra inputs are not permitted",
            input,
        );
    }

    /// `Ok(())` when clean, else the 422 response (with a last item counting the
    /// problems left out, if any).
    pub(super) fn finish(mut self) -> Result<(), ApiResponse> {
        if self.items.is_empty() {
            return Ok(());
        }
        if self.omitted > 0 {
            self.items.push(json!({
                "type": "too_many_errors",
                "loc": ["body"],
                "msg": format!(
                    "{} more problems were found and are not listed (at most {MAX_REPORTED_ISSUES} are)",
                    self.omitted
                ),
                "input": Value::Null,
                "ctx": { "omitted": self.omitted },
            }));
        }
        Err(resp::validation(self.items))
    }
}

/// Parse a request body that the endpoint requires.
pub(super) fn parse_body(body: &[u8]) -> Result<Value, ApiResponse> {
    if body.iter().all(u8::is_ascii_whitespace) {
        let mut i = Issues::default();
        i.missing(&[Seg::K("body")], &Value::Null);
        return Err(resp::validation(i.items));
    }
    serde_json::from_slice::<Value>(body).map_err(|e| {
        // pydantic reports the character position of the decode error.
        let pos = byte_offset(body, e.line(), e.column());
        let mut i = Issues::default();
        i.push_ctx(
            "json_invalid",
            &[Seg::K("body"), Seg::I(pos)],
            "JSON decode error",
            &json!({}),
            json!({ "error": e.to_string() }),
        );
        resp::validation(i.items)
    })
}

fn byte_offset(body: &[u8], line: usize, column: usize) -> usize {
    let mut off = 0usize;
    for (n, l) in body.split(|b| *b == b'\n').enumerate() {
        if n + 1 == line {
            return off + column.saturating_sub(1);
        }
        off += l.len() + 1;
    }
    body.len()
}

/// The body as an object (`model_attributes_type` otherwise).
pub(super) fn object<'v>(
    v: &'v Value,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            issues.push(
                "model_attributes_type",
                loc,
                "Input should be a valid dictionary or object to extract fields from",
                other,
            );
            None
        }
    }
}

/// A free-form dictionary (`dict_type` otherwise).
pub(super) fn dict<'v>(
    v: &'v Value,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<&'v Map<String, Value>> {
    match v {
        Value::Object(m) => Some(m),
        other => {
            issues.push(
                "dict_type",
                loc,
                "Input should be a valid dictionary",
                other,
            );
            None
        }
    }
}

/// A list (`list_type` otherwise).
pub(super) fn list<'v>(v: &'v Value, loc: &[Seg<'_>], issues: &mut Issues) -> Option<&'v [Value]> {
    match v {
        Value::Array(a) => Some(a),
        other => {
            issues.push("list_type", loc, "Input should be a valid list", other);
            None
        }
    }
}

/// A string.
pub(super) fn string(v: &Value, loc: &[Seg<'_>], issues: &mut Issues) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        other => {
            issues.push("string_type", loc, "Input should be a valid string", other);
            None
        }
    }
}

/// A string of at most `max` characters (`string_too_long` otherwise).
pub(super) fn string_max(
    v: &Value,
    max: usize,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<String> {
    let s = string(v, loc, issues)?;
    if s.chars().nth(max).is_some() {
        issues.push_ctx(
            "string_too_long",
            loc,
            &format!("String should have at most {max} characters"),
            v,
            json!({ "max_length": max }),
        );
        return None;
    }
    Some(s)
}

/// `string | null` of at most `max` characters: `Some(None)` for null.
pub(super) fn string_max_or_null(
    v: &Value,
    max: usize,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<Option<String>> {
    if v.is_null() {
        return Some(None);
    }
    string_max(v, max, loc, issues).map(Some)
}

/// `string | null`: `Some(None)` for null.
pub(super) fn string_or_null(
    v: &Value,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<Option<String>> {
    if v.is_null() {
        return Some(None);
    }
    string(v, loc, issues).map(Some)
}

/// A boolean, pydantic lax mode (`true`, `"yes"`, `1`, ...).
pub(super) fn boolean(v: &Value, loc: &[Seg<'_>], issues: &mut Issues) -> Option<bool> {
    let r = match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => match n.as_i64() {
            Some(0) => Some(false),
            Some(1) => Some(true),
            _ => None,
        },
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "t" | "yes" | "y" | "on" | "1" => Some(true),
            "false" | "f" | "no" | "n" | "off" | "0" => Some(false),
            _ => {
                issues.push(
                    "bool_parsing",
                    loc,
                    "Input should be a valid boolean, unable to interpret input",
                    v,
                );
                return None;
            }
        },
        _ => None,
    };
    if r.is_none() {
        issues.push("bool_type", loc, "Input should be a valid boolean", v);
    }
    r
}

/// `bool | null`.
pub(super) fn boolean_or_null(
    v: &Value,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<Option<bool>> {
    if v.is_null() {
        return Some(None);
    }
    boolean(v, loc, issues).map(Some)
}

/// `int | null`, pydantic lax mode (whole floats and numeric strings accepted).
pub(super) fn int_or_null(v: &Value, loc: &[Seg<'_>], issues: &mut Issues) -> Option<Option<i64>> {
    match v {
        Value::Null => Some(None),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                Some(Some(i))
            } else if let Some(f) = n.as_f64().filter(|f| f.fract() == 0.0 && f.abs() < 9.0e18) {
                Some(Some(f as i64))
            } else {
                issues.push(
                    "int_from_float",
                    loc,
                    "Input should be a valid integer, got a number with a fractional part",
                    v,
                );
                None
            }
        }
        Value::String(s) => match s.trim().parse::<i64>() {
            Ok(i) => Some(Some(i)),
            Err(_) => {
                issues.push(
                    "int_parsing",
                    loc,
                    "Input should be a valid integer, unable to parse string as an integer",
                    v,
                );
                None
            }
        },
        other => {
            issues.push("int_type", loc, "Input should be a valid integer", other);
            None
        }
    }
}

/// A UUID string.
pub(super) fn uuid(v: &Value, loc: &[Seg<'_>], issues: &mut Issues) -> Option<Uuid> {
    match v {
        Value::String(s) => match Uuid::try_parse(s) {
            Ok(u) => Some(u),
            Err(e) => {
                issues.push(
                    "uuid_parsing",
                    loc,
                    &format!("Input should be a valid UUID, {e}"),
                    v,
                );
                None
            }
        },
        other => {
            issues.push(
                "uuid_type",
                loc,
                "UUID input should be a string, bytes or UUID object",
                other,
            );
            None
        }
    }
}

/// A UUID as an identity id.
pub(super) fn identity(v: &Value, loc: &[Seg<'_>], issues: &mut Issues) -> Option<IdentityId> {
    uuid(v, loc, issues).map(IdentityId::from)
}

/// `uuid | null` as a group id.
pub(super) fn group_or_null(
    v: &Value,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<Option<GroupId>> {
    if v.is_null() {
        return Some(None);
    }
    uuid(v, loc, issues).map(|u| Some(GroupId::from(u)))
}

/// `uuid | null` as a subscription id.
pub(super) fn subscription_or_null(
    v: &Value,
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<Option<SubscriptionId>> {
    if v.is_null() {
        return Some(None);
    }
    uuid(v, loc, issues).map(|u| Some(SubscriptionId::from(u)))
}

/// "'a', 'b' or 'c'" as pydantic spells the expected values.
pub(super) fn expected(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    match quoted.len() {
        0 => String::new(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// One of `names` (type `enum`).
pub(super) fn enum_value<'n>(
    v: &Value,
    names: &[&'n str],
    loc: &[Seg<'_>],
    issues: &mut Issues,
) -> Option<&'n str> {
    if let Value::String(s) = v
        && let Some(n) = names.iter().find(|n| **n == s.as_str())
    {
        return Some(n);
    }
    let exp = expected(names);
    issues.push_ctx(
        "enum",
        loc,
        &format!("Input should be {exp}"),
        v,
        json!({ "expected": exp }),
    );
    None
}

/// Decode a percent-encoded query component (`+` is a space).
pub(super) fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 3;
                    }
                    _ => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// All values of query parameter `name`, split on commas, trimmed, empty parts dropped.
pub(super) fn query_list(query: Option<&str>, name: &str) -> Option<Vec<String>> {
    let q = query?;
    let mut found = false;
    let mut out = Vec::new();
    for pair in q.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        if percent_decode(k) != name {
            continue;
        }
        found = true;
        for part in percent_decode(v).split(',') {
            let p = part.trim();
            if !p.is_empty() {
                out.push(p.to_owned());
            }
        }
    }
    found.then_some(out)
}

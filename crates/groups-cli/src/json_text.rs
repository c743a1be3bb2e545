//! JSON as the tool prints it: indent 2, the keys of every object sorted.
//! A leaf module, so that both errors and output can print JSON.

use serde_json::Value;

/// JSON with indent 2 and every object's keys sorted (serialized in
/// sorted order, without copying the document).
pub fn to_json_text(v: &Value) -> String {
    serde_json::to_string_pretty(&Sorted(v)).unwrap_or_else(|_| "null".to_owned())
}

/// A value serialized with the keys of every object in sorted order.
struct Sorted<'a>(&'a Value);

impl serde::Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Object(m) => {
                let mut keys: Vec<&String> = m.keys().collect();
                keys.sort();
                let mut map = s.serialize_map(Some(keys.len()))?;
                for k in keys {
                    map.serialize_entry(k, &Sorted(&m[k.as_str()]))?;
                }
                map.end()
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(&Sorted(i))?;
                }
                seq.end()
            }
            other => other.serialize(s),
        }
    }
}

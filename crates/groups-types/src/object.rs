//! [`JsonObject`]: a JSON object that takes one pointer until it holds a key.

use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::OnceLock;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// A JSON object (`serde_json::Map<String, Value>`) that costs one pointer
/// while it is empty and allocates its map on the first insertion.
///
/// Every model keeps the keys it does not know in one of these (`extra`),
/// and a membership's free-form sign-up data (`membership_fields`) is one.
/// Most documents carry no unknown keys, so an inline map (72 bytes with
/// serde_json's `preserve_order`) would mostly hold nothing: with this type a
/// [`Group`](crate::Group) is 432 bytes instead of 560 and a
/// [`Membership`](crate::Membership) 248 instead of 368, which is what a
/// listing of thousands of groups keeps in memory.
///
/// It dereferences to the map, so reading and writing look the same as on a
/// `Map`: `get`, `insert`, `remove`, `iter`, `len` and indexing all work. An
/// empty object equals any other empty object whether or not its map was
/// ever allocated, and it serializes as `{}`.
///
/// ```
/// use groups_types::JsonObject;
/// use groups_types::serde_json::{json, Map};
///
/// let mut extra = JsonObject::new();
/// assert!(extra.is_empty());
/// extra.insert("future_key".into(), json!(1));
/// assert_eq!(extra["future_key"], 1);
/// assert_eq!(serde_json::to_value(&extra).unwrap(), json!({"future_key": 1}));
///
/// let map: Map<_, _> = extra.into_map();
/// assert_eq!(map.len(), 1);
/// assert_eq!(JsonObject::from(Map::new()), JsonObject::new());
/// ```
#[derive(Clone, Default)]
pub struct JsonObject(Option<Box<Map<String, Value>>>);

/// The map an unallocated object dereferences to.
fn empty_map() -> &'static Map<String, Value> {
    static EMPTY: OnceLock<Map<String, Value>> = OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

impl JsonObject {
    /// An empty object; it allocates nothing.
    pub const fn new() -> Self {
        JsonObject(None)
    }

    /// The map, by value (an empty map if none was allocated).
    pub fn into_map(self) -> Map<String, Value> {
        self.0.map(|m| *m).unwrap_or_default()
    }
}

impl Deref for JsonObject {
    type Target = Map<String, Value>;

    fn deref(&self) -> &Map<String, Value> {
        match &self.0 {
            Some(m) => m,
            None => empty_map(),
        }
    }
}

impl DerefMut for JsonObject {
    /// Allocates the map if there is none yet, so a write through the
    /// reference is kept.
    fn deref_mut(&mut self) -> &mut Map<String, Value> {
        self.0.get_or_insert_with(Box::default)
    }
}

impl From<Map<String, Value>> for JsonObject {
    fn from(map: Map<String, Value>) -> Self {
        if map.is_empty() {
            JsonObject(None)
        } else {
            JsonObject(Some(Box::new(map)))
        }
    }
}

impl From<JsonObject> for Map<String, Value> {
    fn from(object: JsonObject) -> Self {
        object.into_map()
    }
}

impl FromIterator<(String, Value)> for JsonObject {
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        JsonObject::from(iter.into_iter().collect::<Map<String, Value>>())
    }
}

impl Extend<(String, Value)> for JsonObject {
    fn extend<I: IntoIterator<Item = (String, Value)>>(&mut self, iter: I) {
        let mut iter = iter.into_iter().peekable();
        if iter.peek().is_some() {
            (**self).extend(iter);
        }
    }
}

impl IntoIterator for JsonObject {
    type Item = (String, Value);
    type IntoIter = serde_json::map::IntoIter;

    fn into_iter(self) -> Self::IntoIter {
        self.into_map().into_iter()
    }
}

impl<'a> IntoIterator for &'a JsonObject {
    type Item = (&'a String, &'a Value);
    type IntoIter = serde_json::map::Iter<'a>;

    fn into_iter(self) -> Self::IntoIter {
        (**self).iter()
    }
}

impl PartialEq for JsonObject {
    fn eq(&self, other: &Self) -> bool {
        **self == **other
    }
}

impl Eq for JsonObject {}

impl PartialEq<Map<String, Value>> for JsonObject {
    fn eq(&self, other: &Map<String, Value>) -> bool {
        **self == *other
    }
}

impl fmt::Debug for JsonObject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl Serialize for JsonObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        (**self).serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Map::deserialize(d).map(JsonObject::from)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn empty_objects_are_equal_allocated_or_not() {
        let mut touched = JsonObject::new();
        let _ = &mut *touched; // allocates an empty map
        assert!(touched.0.is_some());
        assert_eq!(touched, JsonObject::new());
        assert_eq!(JsonObject::new(), Map::new());
        assert_eq!(serde_json::to_string(&touched).unwrap(), "{}");
    }

    #[test]
    fn empty_input_allocates_nothing_and_keys_keep_their_order() {
        let empty: JsonObject = serde_json::from_str("{}").unwrap();
        assert!(empty.0.is_none());
        let full: JsonObject = serde_json::from_str(r#"{"z": 1, "a": [2]}"#).unwrap();
        assert_eq!(full.keys().collect::<Vec<_>>(), ["z", "a"]);
        assert_eq!(
            serde_json::to_value(&full).unwrap(),
            json!({"z": 1, "a": [2]})
        );
        assert!(serde_json::from_str::<JsonObject>("[1]").is_err());
    }

    #[test]
    fn iteration_and_extension_match_the_map() {
        let mut object = JsonObject::new();
        object.extend(std::iter::empty());
        assert!(object.0.is_none(), "extending by nothing must not allocate");
        assert_eq!((&object).into_iter().count(), 0);
        assert!(object.0.is_none(), "reading must not allocate");
        object.extend([("k".to_string(), json!(true))]);
        for (_, v) in object.iter_mut() {
            *v = json!(false);
        }
        assert_eq!(object["k"], false);
        let pairs: Vec<_> = object.clone().into_iter().collect();
        assert_eq!(pairs, [("k".to_string(), json!(false))]);
        assert_eq!(pairs.into_iter().collect::<JsonObject>(), object);
        assert_eq!(
            format!("{object:?}"),
            format!("{:?}", object.clone().into_map())
        );
    }

    #[test]
    fn it_is_one_pointer() {
        assert_eq!(
            std::mem::size_of::<JsonObject>(),
            std::mem::size_of::<usize>()
        );
    }

    /// What a listing keeps in memory per element; a field added to the
    /// models that grows them shows here first.
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn listing_elements_stay_small() {
        use std::mem::size_of;
        assert!(
            size_of::<crate::Group>() <= 432,
            "{}",
            size_of::<crate::Group>()
        );
        assert!(
            size_of::<crate::Membership>() <= 248,
            "{}",
            size_of::<crate::Membership>()
        );
    }
}

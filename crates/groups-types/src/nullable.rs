//! [`Nullable`]: a field that can be absent, explicitly `null`, or hold a value.

/// A JSON field with three states: absent, `null`, or a value.
///
/// The Groups API treats these differently in several places: a policy
/// update that leaves `authentication_assurance_timeout` out keeps the
/// current value, while `null` clears it. Response documents also differ in
/// which keys they carry, and this type lets a document be written back
/// exactly as it was read.
///
/// ```
/// use groups_types::Nullable;
///
/// let absent: Nullable<u32> = Nullable::Absent;
/// let cleared: Nullable<u32> = Nullable::Null;
/// let set = Nullable::from(28800);
/// assert_eq!(set.value(), Some(&28800));
/// assert!(absent.is_absent() && cleared.is_null());
/// assert_eq!(Nullable::from(Some(3)), Nullable::Value(3));
/// assert_eq!(Nullable::<u8>::from(None), Nullable::Null);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Nullable<T> {
    /// The key is not present.
    #[default]
    Absent,
    /// The key is present with the value `null`.
    Null,
    /// The key is present with a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// A mutable reference to the value, if there is one.
    pub fn value_mut(&mut self) -> Option<&mut T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// The value, if there is one, by value.
    pub fn into_value(self) -> Option<T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }

    /// `true` when the key is absent.
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }

    /// `true` when the key is present and `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }

    /// `true` when the key holds a value.
    pub fn is_value(&self) -> bool {
        matches!(self, Nullable::Value(_))
    }

    /// Borrow the contents.
    pub fn as_ref(&self) -> Nullable<&T> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Value(v) => Nullable::Value(v),
        }
    }

    /// Transform the value, keeping absent and null as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Nullable<U> {
        match self {
            Nullable::Absent => Nullable::Absent,
            Nullable::Null => Nullable::Null,
            Nullable::Value(v) => Nullable::Value(f(v)),
        }
    }

    /// The value, or `default` when absent or null.
    pub fn unwrap_or(self, default: T) -> T {
        self.into_value().unwrap_or(default)
    }
}

impl<T: std::ops::Deref> Nullable<T> {
    /// Borrow the value through its `Deref` target (e.g. `&str` from `String`).
    pub fn as_deref(&self) -> Option<&T::Target> {
        self.value().map(|v| &**v)
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(v: T) -> Self {
        Nullable::Value(v)
    }
}

impl<T> From<Option<T>> for Nullable<T> {
    /// `None` becomes an explicit `null`.
    fn from(v: Option<T>) -> Self {
        match v {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        }
    }
}

impl<T: serde::Serialize> serde::Serialize for Nullable<T> {
    /// Absent and null both serialize as `null` when the field is written
    /// on its own; the models of this crate leave absent keys out.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Nullable::Value(v) => s.serialize_some(v),
            _ => s.serialize_none(),
        }
    }
}

impl<'de, T: serde::Deserialize<'de>> serde::Deserialize<'de> for Nullable<T> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Nullable::from)
    }
}

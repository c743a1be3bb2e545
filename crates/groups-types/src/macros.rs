//! Macros that generate the open enums and the models of this crate.
//!
//! Both keep what they do not know: an enum keeps an unknown string as
//! `Unknown(..)`, a model keeps unknown keys in `extra`. Both write them back
//! unchanged, so a document read from a newer service survives a round trip.
//!
//! Models get hand-rolled (de)serializers rather than `#[serde(flatten)]`:
//! flattening buffers every value before deciding where it goes, which makes
//! decoding markedly slower than decoding into `serde_json::Value`.

/// Defines an open string enum: known variants plus `Unknown(String)`.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $(
                $(#[$vmeta:meta])*
                $variant:ident = $text:literal,
            )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        pub enum $name {
            $(
                $(#[$vmeta])*
                $variant,
            )+
            /// A value this version of the SDK does not know. It is kept
            /// verbatim and written back unchanged.
            Unknown(String),
        }

        impl $name {
            /// Every value this version knows, in the API's order.
            pub const KNOWN: &'static [$name] = &[$($name::$variant),+];

            /// The wire string of this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Unknown(s) => s.as_str(),
                }
            }

            /// `true` for a value this version does not know.
            pub fn is_unknown(&self) -> bool {
                matches!(self, $name::Unknown(_))
            }

            /// Parse a wire string; unknown strings become `Unknown`.
            pub fn from_wire(s: &str) -> Self {
                match s {
                    $($text => $name::$variant,)+
                    other => $name::Unknown(other.to_owned()),
                }
            }

            fn from_wire_owned(s: String) -> Self {
                match s.as_str() {
                    $($text => $name::$variant,)+
                    _ => $name::Unknown(s),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok($name::from_wire(s))
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::from_wire(s)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " string"))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        Ok($name::from_wire(v))
                    }
                    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<$name, E> {
                        Ok($name::from_wire_owned(v))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

/// The Rust type of a model field of the given kind.
macro_rules! field_ty {
    (req, $t:ty) => { $t };
    (nul, $t:ty) => { Option<$t> };
    (opt, $t:ty) => { $crate::Nullable<$t> };
    (list, $t:ty) => { $crate::Nullable<$t> };
}

/// Defines a model: a struct with known fields and an `extra` map.
///
/// Field kinds: `req` (required, type `T`), `nul` (required key whose value
/// may be null, type `Option<T>`, always written), `opt` (optional and
/// nullable, type [`crate::Nullable<T>`], left out when absent), `list` (as
/// `opt` for a `Vec` that is shrunk to its length once read: serde grows
/// vectors from capacity 4, which for short lists of large elements such as
/// memberships wastes most of the allocation).
macro_rules! model {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$fmeta:meta])*
                $kind:ident $field:ident : $ty:ty = $key:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq)]
        #[non_exhaustive]
        pub struct $name {
            $(
                $(#[$fmeta])*
                pub $field: field_ty!($kind, $ty),
            )*
            /// Keys this version of the SDK does not know, kept and written
            /// back unchanged (one pointer until a key is present).
            pub extra: $crate::JsonObject,
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeMap;
                let mut len = self.extra.len();
                $( if model!(@present $kind, self.$field) { len += 1; } )*
                let mut m = s.serialize_map(Some(len))?;
                $( model!(@write $kind, m, $key, self.$field); )*
                for (k, v) in &self.extra {
                    m.serialize_entry(k, v)?;
                }
                m.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", stringify!($name), " object"))
                    }
                    #[allow(non_snake_case)]
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> Result<$name, A::Error> {
                        $( let mut $field: Option<field_ty!($kind, $ty)> = None; )*
                        let mut extra = $crate::JsonObject::new();
                        while let Some(key) = map.next_key::<$crate::macros::Key<'de>>()? {
                            match key.as_str() {
                                $(
                                    $key => {
                                        if $field.is_some() {
                                            return Err(serde::de::Error::duplicate_field($key));
                                        }
                                        $field = Some(model!(@read $kind, $ty, map));
                                    }
                                )*
                                _ => {
                                    let value: serde_json::Value = map.next_value()?;
                                    extra.insert(key.into_string(), value);
                                }
                            }
                        }
                        Ok($name {
                            $( $field: model!(@finish $kind, $field, $key), )*
                            extra,
                        })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };

    (@present req, $v:expr) => { true };
    (@present nul, $v:expr) => { true };
    (@present opt, $v:expr) => { !$v.is_absent() };
    (@present list, $v:expr) => { !$v.is_absent() };

    (@write req, $m:ident, $key:literal, $v:expr) => { $m.serialize_entry($key, &$v)?; };
    (@write nul, $m:ident, $key:literal, $v:expr) => { $m.serialize_entry($key, &$v)?; };
    (@write list, $m:ident, $key:literal, $v:expr) => { model!(@write opt, $m, $key, $v) };
    (@write opt, $m:ident, $key:literal, $v:expr) => {
        match &$v {
            $crate::Nullable::Absent => {}
            $crate::Nullable::Null => $m.serialize_entry($key, &())?,
            $crate::Nullable::Value(x) => $m.serialize_entry($key, x)?,
        }
    };

    (@read req, $ty:ty, $map:ident) => { $map.next_value::<$ty>()? };
    (@read nul, $ty:ty, $map:ident) => { $map.next_value::<Option<$ty>>()? };
    (@read opt, $ty:ty, $map:ident) => {
        $crate::Nullable::from($map.next_value::<Option<$ty>>()?)
    };
    (@read list, $ty:ty, $map:ident) => {
        $crate::Nullable::from($map.next_value::<Option<$ty>>()?.map(|mut v| {
            v.shrink_to_fit();
            v
        }))
    };

    (@finish req, $f:ident, $key:literal) => {
        match $f {
            Some(v) => v,
            None => return Err(serde::de::Error::missing_field($key)),
        }
    };
    (@finish nul, $f:ident, $key:literal) => { $f.unwrap_or(None) };
    (@finish opt, $f:ident, $key:literal) => { $f.unwrap_or_default() };
    (@finish list, $f:ident, $key:literal) => { $f.unwrap_or_default() };
}

/// A map key borrowed from the input when possible.
#[doc(hidden)]
pub enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }

    pub(crate) fn into_string(self) -> String {
        match self {
            Key::Borrowed(s) => s.to_owned(),
            Key::Owned(s) => s,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a string key")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key::Borrowed(v))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v.to_owned()))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key::Owned(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Defines a UUID newtype identifier.
macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident, $what:literal) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(uuid::Uuid);

        impl $name {
            /// Wrap a UUID.
            pub const fn from_uuid(id: uuid::Uuid) -> Self {
                $name(id)
            }

            /// The UUID inside.
            pub const fn as_uuid(&self) -> &uuid::Uuid {
                &self.0
            }

            /// Parse a UUID string (any form `uuid` accepts: hyphenated,
            /// simple, braced, URN).
            pub fn parse(s: &str) -> Result<Self, $crate::IdParseError> {
                uuid::Uuid::try_parse(s.trim())
                    .map($name)
                    .map_err(|_| $crate::IdParseError::new($what, s))
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                $name(id)
            }
        }

        impl From<$name> for uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::IdParseError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::parse(s)
            }
        }

        impl TryFrom<&str> for $name {
            type Error = $crate::IdParseError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                $name::parse(s)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                // Encoded straight into a stack buffer (ids are formatted
                // into every request path); `pad` still honours a width.
                let mut buf = uuid::Uuid::encode_buffer();
                f.pad(self.0.hyphenated().encode_lower(&mut buf))
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut buf = uuid::Uuid::encode_buffer();
                s.serialize_str(self.0.hyphenated().encode_lower(&mut buf))
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str(concat!("a ", $what, " id (UUID string)"))
                    }
                    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        $name::parse(v).map_err(E::custom)
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}

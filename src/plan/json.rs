//! Lenient field extraction from a JSON object: a key is moved into a typed
//! field only when its value has the type the field expects; anything else
//! stays in the object, which becomes the record's `extra` map. So an
//! unexpected value (a newer server printing an object where a number used
//! to be, or a hand-edited plan) is kept, never lost and never an error.

use serde_json::{Map, Value};

pub(crate) type Object = Map<String, Value>;

/// A value a typed plan field can hold.
pub(crate) trait FromJson: Sized {
    fn from_json(value: &Value) -> Option<Self>;
}

impl FromJson for f64 {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_f64().filter(|v| v.is_finite())
    }
}

impl FromJson for u64 {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_u64()
    }
}

impl FromJson for bool {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_bool()
    }
}

impl FromJson for String {
    fn from_json(value: &Value) -> Option<Self> {
        value.as_str().map(str::to_owned)
    }
}

impl FromJson for Vec<String> {
    fn from_json(value: &Value) -> Option<Self> {
        value
            .as_array()?
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect()
    }
}

/// Moves `key` out of `object` when its value converts to `T`.
pub(crate) fn take<T: FromJson>(object: &mut Object, key: &str) -> Option<T> {
    let typed = T::from_json(object.get(key)?)?;
    object.remove(key);
    Some(typed)
}

/// Moves `key` out of `object` when it is an array whose every item is an
/// object that `parse` accepts; otherwise leaves it where it is.
pub(crate) fn take_records<T>(
    object: &mut Object,
    key: &str,
    parse: impl Fn(Object) -> T,
) -> Vec<T> {
    let all_objects = match object.get(key) {
        Some(Value::Array(items)) => items.iter().all(Value::is_object),
        _ => false,
    };
    if !all_objects {
        return Vec::new();
    }
    match object.remove(key) {
        Some(Value::Array(items)) => items
            .into_iter()
            .filter_map(|item| match item {
                Value::Object(map) => Some(parse(map)),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Moves `key` out of `object` when it is an object, handing it to `parse`.
pub(crate) fn take_record<T>(
    object: &mut Object,
    key: &str,
    parse: impl Fn(Object) -> T,
) -> Option<T> {
    if !object.get(key).is_some_and(Value::is_object) {
        return None;
    }
    match object.remove(key) {
        Some(Value::Object(map)) => Some(parse(map)),
        _ => None,
    }
}

/// Declares a record parsed from a JSON object: each listed field is
/// `Option<T>`, serialized back under its server key (and skipped when
/// `None`); `fill_known` moves the keys of the right type out of an object.
/// Fields outside the list (children, the `extra` map) are declared by hand
/// after the `;`.
macro_rules! json_record {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $key:literal => $field:ident : $ty:ty, )*
            ;
            $( $(#[$ometa:meta])* pub $ofield:ident : $oty:ty, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $key, skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
            $( $(#[$ometa])* pub $ofield: $oty, )*
        }

        impl $name {
            /// The server keys this record has a typed field for.
            pub const KNOWN_KEYS: &'static [&'static str] = &[$($key),*];

            fn fill_known(&mut self, object: &mut $crate::plan::json::Object) {
                $( self.$field = $crate::plan::json::take::<$ty>(object, $key); )*
            }
        }
    };
}

pub(crate) use json_record;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Object {
        match value {
            Value::Object(map) => map,
            _ => unreachable!("test input is an object"),
        }
    }

    #[test]
    fn a_value_of_the_wrong_type_stays_in_the_object() {
        let mut o = object(json!({"a": 1.5, "b": "x", "c": [1, "y"], "d": 7}));
        assert_eq!(take::<f64>(&mut o, "a"), Some(1.5));
        assert_eq!(take::<f64>(&mut o, "b"), None);
        assert_eq!(take::<Vec<String>>(&mut o, "c"), None);
        assert_eq!(take::<u64>(&mut o, "d"), Some(7));
        assert_eq!(take::<u64>(&mut o, "missing"), None);
        assert_eq!(o, object(json!({"b": "x", "c": [1, "y"]})));
    }

    #[test]
    fn records_are_taken_only_when_every_item_is_an_object() {
        let mut o = object(json!({"ok": [{"x": 1}], "mixed": [{"x": 1}, 2]}));
        assert_eq!(take_records(&mut o, "ok", |m| m.len()), vec![1]);
        assert!(take_records(&mut o, "mixed", |m| m.len()).is_empty());
        assert!(o.contains_key("mixed") && !o.contains_key("ok"));
    }
}

//! A JSON object read as its members in order, each value left as raw JSON text: the filter
//! parses only the values it changes, so every other value (numbers beyond `f64`, key order,
//! escapes) goes out exactly as it came in.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

/// A member name, borrowed from the input unless it holds escapes.
#[derive(Debug, Deserialize)]
struct Name<'a>(#[serde(borrow)] Cow<'a, str>);

/// The members of a JSON object, in order (duplicates kept).
#[derive(Debug)]
pub struct RawObject<'a>(pub Vec<(Cow<'a, str>, &'a RawValue)>);

/// A Singer message read in one pass: its members in order, each value as raw JSON text but
/// `record`'s, whose own members are read at the same time.
#[derive(Debug)]
pub struct Message<'a> {
    /// The members; `None` stands for the value of `record`.
    pub members: Vec<(Cow<'a, str>, Option<&'a RawValue>)>,
    /// The members of `record` (the last one, if there are two), or what it is instead of an
    /// object.
    pub record: Option<Result<RawObject<'a>, &'static str>>,
}

impl<'de> Deserialize<'de> for Message<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Members;

        impl<'de> Visitor<'de> for Members {
            type Value = Message<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut message = Message {
                    members: Vec::with_capacity(8),
                    record: None,
                };
                while let Some(Name(name)) = map.next_key::<Name<'de>>()? {
                    if name == "record" {
                        message.record = Some(map.next_value::<Record<'de>>()?.0);
                        message.members.push((name, None));
                    } else {
                        message.members.push((name, Some(map.next_value()?)));
                    }
                }
                Ok(message)
            }
        }

        deserializer.deserialize_map(Members)
    }
}

impl<'a> Message<'a> {
    /// The raw value of member `name` (the last one when it is there twice, as JSON parsers do).
    fn get(&self, name: &str) -> Option<&'a RawValue> {
        self.members
            .iter()
            .rev()
            .find(|(member, _)| member == name)
            .and_then(|(_, value)| *value)
    }

    /// The string value of member `name`; an error that names the member and what it holds
    /// instead (never the value).
    pub fn string(&self, name: &str) -> Result<Cow<'a, str>, String> {
        let Some(value) = self.get(name) else {
            return Err(format!("the message has no `{name}`"));
        };
        match serde_json::from_str::<Name<'a>>(value.get()) {
            Ok(Name(text)) => Ok(text),
            Err(_) => Err(format!(
                "`{name}` is {}, not a string",
                kind_of(value.get().as_bytes())
            )),
        }
    }
}

/// The value of `record`: its members, or what it is instead of an object.
struct Record<'a>(Result<RawObject<'a>, &'static str>);

impl<'de> Deserialize<'de> for Record<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ObjectOrKind).map(Record)
    }
}

/// Reads an object's members, or names the kind of any other value (read and skipped).
struct ObjectOrKind;

impl<'de> Visitor<'de> for ObjectOrKind {
    type Value = Result<RawObject<'de>, &'static str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(16));
        while let Some((Name(name), value)) = map.next_entry::<Name<'de>, &RawValue>()? {
            members.push((name, value));
        }
        Ok(Ok(RawObject(members)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Err("an array"))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Err("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Err("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Err("a string"))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Err("null"))
    }
}

/// What kind of JSON value `text` starts, for messages that must not show the value itself.
pub fn kind_of(text: &[u8]) -> &'static str {
    match text.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{') => "an object",
        Some(b'[') => "an array",
        Some(b'"') => "a string",
        Some(b't' | b'f') => "a boolean",
        Some(b'n') => "null",
        Some(_) => "a number",
        None => "nothing",
    }
}

/// Appends `name` as a JSON string. A name borrowed from the input held no escapes, so its text
/// goes out as it is; one that held escapes is escaped again.
#[expect(
    clippy::ptr_arg,
    reason = "whether the name is borrowed is what tells that it held no escapes"
)]
pub fn push_name(out: &mut Vec<u8>, name: &Cow<'_, str>) {
    match name {
        Cow::Borrowed(name) => {
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.push(b'"');
        }
        // Writing into a Vec cannot fail, and a str always serialises.
        Cow::Owned(name) => {
            let _ = serde_json::to_writer(&mut *out, name);
        }
    }
}

/// The text of a JSON string without escapes (`"abc"` -> `abc`); `None` for anything else.
pub fn plain_str(value: &RawValue) -> Option<&str> {
    value
        .get()
        .strip_prefix('"')?
        .strip_suffix('"')
        .filter(|text| !text.contains('\\'))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The members of the object `text`, read as the `record` of a message (leaked: a test's
    /// input lives as long as the test).
    fn record_of(text: &str) -> RawObject<'static> {
        let message: &'static str = Box::leak(format!(r#"{{"record": {text}}}"#).into_boxed_str());
        let message: Message<'static> = serde_json::from_str(message).expect("an object");
        match message.record {
            Some(Ok(record)) => record,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn members_keep_their_order_their_text_and_duplicates() {
        let object = record_of(
            r#"{"b": 1.50, "a": {"x": [1, 2]}, "b": 123456789012345678901234567890, "\u0063": "é"}"#,
        );
        let members: Vec<(&str, &str)> = object
            .0
            .iter()
            .map(|(name, value)| (name.as_ref(), value.get()))
            .collect();
        assert_eq!(
            members,
            [
                ("b", "1.50"),
                ("a", r#"{"x": [1, 2]}"#),
                ("b", "123456789012345678901234567890"),
                ("c", r#""é""#),
            ]
        );
        let mut names = Vec::new();
        for (name, _) in &object.0 {
            push_name(&mut names, name);
        }
        assert_eq!(names, br#""b""a""b""c""#);
        let plain: Vec<Option<&str>> = object.0.iter().map(|(_, v)| plain_str(v)).collect();
        assert_eq!(plain, [None, None, None, Some("é")]);
        let escaped = record_of(r#"{"a": "x\"y"}"#);
        assert_eq!(plain_str(escaped.0[0].1), None);
    }

    #[test]
    fn a_message_reads_its_record_in_the_same_pass() {
        let text = r#"{"type": "RECORD", "record": {"a": 1}, "stream": 5, "version": 2}"#;
        let message: Message = serde_json::from_str(text).expect("an object");
        let names: Vec<&str> = message.members.iter().map(|(n, _)| n.as_ref()).collect();
        assert_eq!(names, ["type", "record", "stream", "version"]);
        assert_eq!(message.string("type").as_deref(), Ok("RECORD"));
        assert_eq!(
            message.string("stream"),
            Err("`stream` is a number, not a string".to_owned())
        );
        assert_eq!(
            message.string("value"),
            Err("the message has no `value`".to_owned())
        );
        let Some(Ok(record)) = &message.record else {
            panic!("the record's members");
        };
        assert_eq!(record.0[0].1.get(), "1");
        for (record, kind) in [
            ("[1, {}]", "an array"),
            ("\"x\"", "a string"),
            ("-1.5", "a number"),
            ("true", "a boolean"),
            ("null", "null"),
        ] {
            let text = format!(r#"{{"type": "RECORD", "record": {record}, "z": 1}}"#);
            let message: Message = serde_json::from_str(&text).expect("an object");
            assert_eq!(message.record.map(|r| r.err()), Some(Some(kind)));
        }
    }

    #[test]
    fn kinds_are_named_by_their_first_byte() {
        for (text, kind) in [
            (" [1]", "an array"),
            ("\"x\"", "a string"),
            ("-1", "a number"),
            ("false", "a boolean"),
            ("null", "null"),
        ] {
            assert_eq!(kind_of(text.as_bytes()), kind);
        }
    }
}

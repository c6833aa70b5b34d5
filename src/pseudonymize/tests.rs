//! Tests of the whole filter: messages in, messages out, and its properties (determinism, keys,
//! no clear value left, schema and records in agreement, unlisted fields, any read size).

use std::io::{self, Read};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::secret::Secret;

const KEY: &str = "test-key-0123456789-0123456789-0123456789";
const OTHER_KEY: &str = "another-key-abcdefghij-abcdefghij-abcdefghij";

const CONFIG: &str = r#"
key_env: PII_HMAC_KEY
key_id: k1
streams:
  users:
    hash: [email, phone, customer.id]
    drop: [ssn, address.street]
    normalize: {email: email, phone: phone}
  "*":
    unlisted: keep
"#;

fn config(text: &str) -> Config {
    config::parse(text).unwrap_or_else(|(at, reason)| panic!("{at:?}: {reason}"))
}

fn hasher_for(config: &Config, key: &str) -> Hasher {
    Hasher::new(
        &Secret::new(key.as_bytes().to_vec()),
        config.key_id.as_deref(),
    )
    .expect("a valid key")
}

/// Runs the filter over `input`, read `chunk` bytes at a time.
fn run_chunked(
    config: &Config,
    key: &str,
    input: &str,
    chunk: usize,
) -> Result<String, FilterError> {
    let hasher = hasher_for(config, key);
    let mut out = Vec::new();
    filter(
        config,
        &hasher,
        Chunked::new(input.as_bytes(), chunk),
        &mut out,
    )?;
    Ok(String::from_utf8(out).expect("UTF-8 output"))
}

fn run(config: &Config, key: &str, input: &str) -> Result<String, FilterError> {
    run_chunked(config, key, input, 8192)
}

/// A reader that hands out at most `chunk` bytes per read.
struct Chunked {
    data: Vec<u8>,
    at: usize,
    chunk: usize,
}

impl Chunked {
    fn new(data: &[u8], chunk: usize) -> Self {
        Self {
            data: data.to_vec(),
            at: 0,
            chunk: chunk.max(1),
        }
    }
}

impl Read for Chunked {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.data[self.at..];
        let n = rest.len().min(self.chunk).min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

fn lines(messages: &[Value]) -> String {
    messages.iter().map(|m| format!("{m}\n")).collect()
}

fn parsed(output: &str) -> Vec<Value> {
    output
        .lines()
        .map(|line| serde_json::from_str(line).expect("each output line is JSON"))
        .collect()
}

fn users_schema() -> Value {
    json!({"type": "SCHEMA", "stream": "users", "key_properties": ["id"], "schema": {
        "type": "object",
        "properties": {
            "id": {"type": "integer"},
            "email": {"type": ["null", "string"], "format": "email"},
            "phone": {"type": "string"},
            "ssn": {"type": "string"},
            "name": {"type": "string"},
            "extra": {"type": "string"},
            "customer": {"type": "object", "properties": {"id": {"type": "integer"}}},
            "address": {"type": "object", "properties": {
                "street": {"type": "string"}, "city": {"type": "string"}
            }, "required": ["street"]}
        },
        "required": ["id", "ssn"]
    }})
}

fn input_error(result: Result<String, FilterError>) -> (u64, String) {
    match result {
        Err(FilterError::Input { line, problem }) => (line, problem),
        other => panic!("expected an input error, got {other:?}"),
    }
}

#[test]
fn records_are_hashed_and_dropped_and_the_schema_follows() {
    let config = config(CONFIG);
    let input = lines(&[
        users_schema(),
        json!({"type": "RECORD", "stream": "users", "time_extracted": "2024-01-01T00:00:00Z",
               "record": {"id": 1, "email": " Ann@Example.COM ", "phone": "+1 555-0100",
                          "ssn": "078-05-1120", "name": "Ann", "customer": {"id": 7},
                          "address": {"street": "1 Main St", "city": "Springfield"}}}),
        json!({"type": "STATE", "value": {"bookmarks": {"users": {"id": 1}}}}),
        json!({"type": "ACTIVATE_VERSION", "stream": "users", "version": 3}),
    ]);
    let output = parsed(&run(&config, KEY, &input).expect("filtered"));
    assert_eq!(output.len(), 4);

    let schema = &output[0]["schema"];
    assert_eq!(
        schema["properties"]["email"],
        json!({"type": ["string", "null"]})
    );
    assert_eq!(schema["properties"]["phone"], json!({"type": "string"}));
    assert_eq!(
        schema["properties"]["customer"]["properties"]["id"],
        json!({"type": "string"})
    );
    assert!(schema["properties"].get("ssn").is_none());
    assert_eq!(
        schema["properties"]["address"],
        json!({"type": "object", "properties": {"city": {"type": "string"}}})
    );
    assert_eq!(schema["required"], json!(["id"]));
    assert_eq!(output[0]["key_properties"], json!(["id"]));

    let mut hasher = hasher_for(&config, KEY);
    let mut expected_email = json!("ann@example.com");
    hasher.hash_in_place(&mut expected_email, None);
    let record = &output[1]["record"];
    assert_eq!(record["email"], expected_email);
    assert!(
        record["email"]
            .as_str()
            .is_some_and(|h| h.starts_with("k1:"))
    );
    assert_eq!(record["name"], "Ann");
    assert_eq!(record["id"], 1);
    assert!(record.get("ssn").is_none());
    assert_eq!(record["address"], json!({"city": "Springfield"}));
    assert_eq!(output[1]["time_extracted"], "2024-01-01T00:00:00Z");
    // STATE and ACTIVATE_VERSION pass byte for byte.
    let input_lines: Vec<&str> = input.lines().collect();
    let output_text = run(&config, KEY, &input).expect("filtered");
    let output_lines: Vec<&str> = output_text.lines().collect();
    assert_eq!(output_lines[2..], input_lines[2..]);
}

#[test]
fn streams_without_rules_pass_byte_for_byte() {
    let config = config(CONFIG);
    let input = "{\"type\": \"SCHEMA\", \"stream\": \"other\", \"schema\": {}}\n\
                 {\"type\":\"RECORD\",  \"stream\":\"other\",\"record\":{\"z\":1,\"a\":2}}\n\
                 {\"type\":\"SOMETHING_NEW\",\"x\":1}\n";
    assert_eq!(run(&config, KEY, input).expect("filtered"), input);
}

#[test]
fn fields_no_rule_changes_keep_their_order_and_their_text() {
    let config = config(CONFIG);
    let schema = users_schema().to_string();
    let record = r#"{"type":"RECORD","stream":"users","record":{"z":1.50,"email":"A@X","big":123456789012345678901234567890,"esc":"\u00e9","ssn":"1"},"version":7}"#;
    let output = run(&config, KEY, &format!("{schema}\n{record}\n")).expect("filtered");
    let line = output.lines().nth(1).expect("the record");
    let mut hasher = hasher_for(&config, KEY);
    let mut email = json!("a@x");
    hasher.hash_in_place(&mut email, None);
    assert_eq!(
        line,
        format!(
            r#"{{"type":"RECORD","stream":"users","record":{{"z":1.50,"email":{email},"big":123456789012345678901234567890,"esc":"\u00e9"}},"version":7}}"#
        )
    );
}

#[test]
fn nested_arrays_are_addressed_by_dots_and_by_brackets() {
    let config = config(
        r#"
key_env: K
streams:
  orders:
    hash: [items.email, "tags[]"]
    drop: [items.note]
"#,
    );
    let input = lines(&[
        json!({"type": "SCHEMA", "stream": "orders", "schema": {"type": "object", "properties": {
            "items": {"type": ["null", "array"], "items": {"type": "object", "properties": {
                "email": {"type": "string"}, "note": {"type": "string"}, "qty": {"type": "integer"}
            }}},
            "tags": {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "null"}]}}
        }}}),
        json!({"type": "RECORD", "stream": "orders", "record": {
            "items": [{"email": "a@x", "note": "n", "qty": 1}, {"email": null, "qty": 2}],
            "tags": ["vip", null]
        }}),
    ]);
    let output = parsed(&run(&config, KEY, &input).expect("filtered"));
    let items = &output[0]["schema"]["properties"]["items"]["items"]["properties"];
    assert_eq!(items["email"], json!({"type": "string"}));
    assert!(items.get("note").is_none());
    assert_eq!(
        output[0]["schema"]["properties"]["tags"]["items"],
        json!({"type": ["string", "null"]})
    );
    let record = &output[1]["record"];
    assert_eq!(record["items"][0]["email"].as_str().map(str::len), Some(64));
    assert_eq!(record["items"][1]["email"], Value::Null);
    assert!(record["items"][0].get("note").is_none());
    assert_eq!(record["items"][0]["qty"], 1);
    assert_eq!(record["tags"][0].as_str().map(str::len), Some(64));
    assert_eq!(record["tags"][1], Value::Null);
}

#[test]
fn bad_lines_stop_with_the_line_number_and_no_value() {
    let config = config(CONFIG);
    let schema = users_schema().to_string();
    let cases: &[(&str, u64, &str)] = &[
        (
            "{\"type\": \"RECORD\", \"stream\": \"users\", \"record\": {\"email\": \"secret@x\"",
            1,
            "ends early",
        ),
        (
            "{\"type\": \"RECORD\", \"stream\": \"users\", \"record\": {\"email\": \"secret@x\"}}",
            1,
            "before its SCHEMA",
        ),
        ("[\"secret@x\"]", 1, "holds an array"),
        ("{\"stream\": \"secret@x\"}", 1, "no `type`"),
        (
            "{\"type\": \"RECORD\", \"stream\": \"users\", \"record\": \"secret@x\"}",
            2,
            "`record` is a string",
        ),
        (
            "{\"type\": \"RECORD\", \"stream\": \"users\", \"record\": {\"email\": secret@x}}",
            2,
            "malformed JSON",
        ),
        (
            "{\"type\": \"BATCH\", \"stream\": \"users\", \"encoding\": {}, \"manifest\": [\"secret@x\"]}",
            2,
            "BATCH",
        ),
    ];
    for (line, number, what) in cases {
        let input = if *number == 1 {
            format!("{line}\n")
        } else {
            format!("{schema}\n{line}\n")
        };
        let (at, problem) = input_error(run(&config, KEY, &input));
        assert_eq!(at, *number, "{line}: {problem}");
        assert!(problem.contains(what), "{line}: {problem}");
        assert!(!problem.contains("secret@x"), "{line}: {problem}");
    }
}

#[test]
fn a_line_that_is_not_utf8_is_refused_by_its_column() {
    let config = config(CONFIG);
    let hasher = hasher_for(&config, KEY);
    let input: &[u8] = b"{\"type\": \"STATE\", \"value\": \"caf\xe9\"}\n";
    let result = filter(&config, &hasher, Chunked::new(input, 64), Vec::new());
    let (line, problem) = input_error(result.map(|_| String::new()));
    assert_eq!(line, 1);
    assert_eq!(problem, "not UTF-8 (at column 32)");
}

#[test]
fn a_record_before_its_schema_is_found_across_batches_and_what_came_before_is_written() {
    let config = config(CONFIG);
    let schema = users_schema().to_string();
    let users = json!({"type": "RECORD", "stream": "users", "record": {"id": 1}}).to_string();
    let other = json!({"type": "RECORD", "stream": "other", "record": {"id": 2}}).to_string();
    let input = format!("{schema}\n{users}\n\n{other}\n{users}\n");
    for chunk in [1, 7, 64, 8192] {
        let hasher = hasher_for(&config, KEY);
        let mut out = Vec::new();
        let result = filter(
            &config,
            &hasher,
            Chunked::new(input.as_bytes(), chunk),
            &mut out,
        );
        let (line, problem) = input_error(result.map(|_| String::new()));
        assert_eq!(line, 4, "chunk {chunk}");
        assert_eq!(problem, "stream `other`: a RECORD before its SCHEMA");
        assert_eq!(
            String::from_utf8_lossy(&out).lines().count(),
            2,
            "chunk {chunk}"
        );
    }
}

#[test]
fn a_dropped_key_property_is_refused_at_the_schema() {
    let config = config("key_env: K\nstreams:\n  users:\n    keep: [email]\n    unlisted: drop\n");
    let (line, problem) = input_error(run(&config, KEY, &lines(&[users_schema()])));
    assert_eq!(line, 1);
    assert!(problem.contains("key property `id`"), "{problem}");
}

#[test]
fn a_line_over_the_limit_is_an_error_not_a_growing_buffer() {
    let config = config(CONFIG);
    let long = format!(
        "{{\"type\": \"STATE\", \"value\": \"{}\"}}\n",
        "x".repeat(MAX_LINE_BYTES)
    );
    let (line, problem) = input_error(run(&config, KEY, &long));
    assert_eq!(line, 1);
    assert!(problem.contains("longer than 64 MiB"), "{problem}");
}

#[test]
fn config_errors_name_the_place_and_the_reason() {
    let error = |text: &str| config::parse(text).expect_err("an invalid config");
    let (at, reason) = error("key_env: K\nkey: abcdefabcdefabcdefabcdefabcdefabcdef\n");
    assert_eq!(at.map(|(line, _)| line), Some(2));
    assert!(
        reason.contains("must never be written in the config"),
        "{reason}"
    );
    assert!(!reason.contains("abcdef"), "{reason}");
    let (at, reason) = error("key_env: K\nstreams:\n  users:\n    hsah: [email]\n");
    assert_eq!(at.map(|(line, _)| line), Some(4));
    assert!(reason.contains("hsah"), "{reason}");
    let (_, reason) =
        error("key_env: K\nstreams:\n  users:\n    hash: [email]\n    drop: [email]\n");
    assert!(
        reason.contains("`email` is in both `hash` and `drop`"),
        "{reason}"
    );
    let (_, reason) = error("key_env: K\nstreams:\n  users:\n    hash: [a]\n    drop: [a.b]\n");
    assert!(reason.contains("`a.b` is inside `a`"), "{reason}");
    let (_, reason) = error("key_env: K\nstreams:\n  users:\n    drop: [a.b]\n    hash: [a]\n");
    assert!(reason.contains("`a.b` is inside `a`"), "{reason}");
    let (_, reason) = error("key_env: K\nstreams:\n  users:\n    normalize: {email: email}\n");
    assert!(reason.contains("not in `hash`"), "{reason}");
    let (_, reason) = error("key_env: 1BAD\n");
    assert!(reason.contains("`key_env` must name"), "{reason}");
    let (_, reason) = error("key_env: K\nkey_id: 'a:b'\n");
    assert!(reason.contains("`key_id`"), "{reason}");
    let (_, reason) = error("key_env: K\nstreams:\n  s:\n    hash: ['a..b']\n");
    assert!(reason.contains("not a field path"), "{reason}");
    let (_, reason) = error("key_env: K\nstreams:\n  s:\n    drop: ['a[]']\n");
    assert!(reason.contains("drop the array itself"), "{reason}");
}

#[test]
fn meltano_json_config_is_read() {
    let config = config(
        r#"{
  "key_env": "PII_HMAC_KEY",
  "streams": {"users": {"hash": ["email"], "unlisted": "drop", "keep": ["id"]}}
}"#,
    );
    assert_eq!(config.key_env, "PII_HMAC_KEY");
    assert!(config.rules_for("users").is_some());
    assert!(config.rules_for("other").is_none());
}

// ---------------------------------------------------------------------------------------------
// Properties

/// A clear value that cannot appear by chance in a hash, a field name or a kept value.
fn clear_value() -> impl Strategy<Value = String> {
    "PII[A-Z]{6}[0-9]{4}"
}

fn kept_value() -> impl Strategy<Value = String> {
    "[a-z ]{0,12}"
}

#[derive(Debug, Clone)]
struct Person {
    email: String,
    phone: String,
    ssn: String,
    street: String,
    customer: i64,
    name: String,
    extra: Option<String>,
}

fn person() -> impl Strategy<Value = Person> {
    (
        clear_value(),
        clear_value(),
        clear_value(),
        clear_value(),
        any::<i64>(),
        kept_value(),
        proptest::option::of(kept_value()),
    )
        .prop_map(
            |(email, phone, ssn, street, customer, name, extra)| Person {
                email,
                phone,
                ssn,
                street,
                customer,
                name,
                extra,
            },
        )
}

fn stream_of(people: &[Person]) -> String {
    let mut messages = vec![users_schema()];
    for (id, person) in people.iter().enumerate() {
        let mut record = json!({
            "id": id, "email": person.email, "phone": person.phone, "ssn": person.ssn,
            "name": person.name, "customer": {"id": person.customer},
            "address": {"street": person.street, "city": "c"}
        });
        if let Some(extra) = &person.extra {
            record["extra"] = json!(extra);
        }
        messages.push(json!({"type": "RECORD", "stream": "users", "record": record}));
    }
    lines(&messages)
}

proptest! {
    #[test]
    fn same_input_and_key_give_the_same_output(people in proptest::collection::vec(person(), 1..8)) {
        let config = config(CONFIG);
        let input = stream_of(&people);
        prop_assert_eq!(run(&config, KEY, &input).ok(), run(&config, KEY, &input).ok());
    }

    #[test]
    fn different_keys_give_different_hashes(people in proptest::collection::vec(person(), 1..8)) {
        let config = config(CONFIG);
        let input = stream_of(&people);
        let one = parsed(&run(&config, KEY, &input).expect("filtered"));
        let other = parsed(&run(&config, OTHER_KEY, &input).expect("filtered"));
        for (a, b) in one.iter().zip(&other).skip(1) {
            for field in ["email", "phone"] {
                prop_assert_ne!(&a["record"][field], &b["record"][field]);
            }
            prop_assert_eq!(&a["record"]["name"], &b["record"]["name"]);
        }
    }

    #[test]
    fn no_configured_clear_value_reaches_the_output(
        people in proptest::collection::vec(person(), 1..8),
        chunk in 1usize..64,
    ) {
        let config = config(CONFIG);
        let output = run_chunked(&config, KEY, &stream_of(&people), chunk).expect("filtered");
        for person in &people {
            for clear in [&person.email, &person.phone, &person.ssn, &person.street] {
                prop_assert!(!output.contains(clear.as_str()));
                prop_assert!(!output.contains(&clear.to_lowercase()));
            }
            let customer = format!("\"customer\":{{\"id\":{}}}", person.customer);
            prop_assert!(!output.contains(&customer));
        }
    }

    #[test]
    fn records_and_schema_agree(
        people in proptest::collection::vec(person(), 1..8),
        strict in any::<bool>(),
    ) {
        let text = if strict {
            "key_env: K\nstreams:\n  users:\n    hash: [email, phone]\n    drop: [ssn]\n    keep: [id, name, address.city]\n    unlisted: drop\n"
        } else {
            CONFIG
        };
        let config = config(text);
        let output = parsed(&run(&config, KEY, &stream_of(&people)).expect("filtered"));
        let properties = output[0]["schema"]["properties"].as_object().expect("properties").clone();
        for (message, person) in output.iter().skip(1).zip(&people) {
            let record = message["record"].as_object().expect("a record");
            for (name, value) in record {
                let property = properties.get(name);
                prop_assert!(property.is_some(), "field {} is not in the schema", name);
                if name == "email" || name == "phone" {
                    prop_assert!(value.is_string());
                    prop_assert_eq!(property.and_then(|p| p.get("type")).and_then(Value::as_str).or(Some("string")), Some("string"));
                }
            }
            if strict {
                let mut names: Vec<&str> = record.keys().map(String::as_str).collect();
                names.sort_unstable();
                prop_assert_eq!(names, ["address", "email", "id", "name", "phone"]);
                prop_assert_eq!(&message["record"]["address"], &json!({"city": "c"}));
            } else {
                prop_assert_eq!(record.get("extra").and_then(Value::as_str), person.extra.as_deref());
                prop_assert_eq!(&record["name"], &json!(person.name));
            }
        }
    }

    #[test]
    fn any_read_size_gives_the_same_output(
        people in proptest::collection::vec(person(), 1..6),
        chunk in 1usize..200,
    ) {
        let config = config(CONFIG);
        let input = stream_of(&people);
        prop_assert_eq!(
            run_chunked(&config, KEY, &input, chunk).ok(),
            run(&config, KEY, &input).ok()
        );
    }
}

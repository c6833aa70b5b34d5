//! One batch of whole lines through the filter, on its own: each message parsed, its RECORD or
//! SCHEMA rewritten by the stream's rules, everything else passed byte for byte. Whether a
//! RECORD came after its stream's SCHEMA depends on the batches before, so a batch does not
//! decide it: it notes where each SCHEMA and each stream's first RECORD are ([`Event`]) and the
//! caller, which sees the batches in order, checks them ([`super::filter`]).

use std::collections::HashSet;

use serde_json::error::Category;
use serde_json::{Map, Value};

use super::raw::{self, Message, kind_of};
use super::rules::{Action, StreamRules};
use super::{Config, Counts, FilterError, Hasher, MAX_LINE_BYTES};

/// Whole lines, and the number of the first.
#[derive(Debug)]
pub struct Batch {
    /// Line number of the first line (1-based).
    pub first_line: u64,
    /// The lines, each with its line end (the last one may lack it at the end of the input).
    pub bytes: Vec<u8>,
}

/// A SCHEMA, or the first RECORD of a stream in a batch that had no SCHEMA for it before.
#[derive(Debug, PartialEq, Eq)]
pub struct Event {
    /// Its line number.
    pub line: u64,
    /// How much output the batch had written before this line.
    pub at: usize,
    /// The stream.
    pub stream: String,
    /// SCHEMA or RECORD.
    pub is_schema: bool,
}

/// What became of a batch.
#[derive(Debug, Default)]
pub struct Done {
    /// The messages to write.
    pub output: Vec<u8>,
    /// SCHEMAs and first RECORDs, in line order.
    pub events: Vec<Event>,
    /// Whether a STATE message is in the output (the writer flushes after it).
    pub holds_state: bool,
    /// What went through.
    pub counts: Counts,
    /// The line that stopped the batch, with how much output came before it.
    pub failure: Option<(usize, FilterError)>,
}

impl Done {
    /// A batch that could not be read.
    pub fn failed(err: FilterError) -> Self {
        Self {
            failure: Some((0, err)),
            ..Self::default()
        }
    }
}

/// Runs `batch` through the filter.
pub fn process(config: &Config, hasher: &mut Hasher, batch: &Batch) -> Done {
    let mut worker = Worker {
        config,
        hasher,
        done: Done {
            output: Vec::with_capacity(batch.bytes.len() + batch.bytes.len() / 2),
            ..Done::default()
        },
        schemas: HashSet::new(),
        recorded: HashSet::new(),
    };
    let lines = batch
        .bytes
        .split_inclusive(|&b| b == b'\n')
        .map(trim_line_end);
    for (line, text) in (batch.first_line..).zip(lines) {
        let at = worker.done.output.len();
        if let Err(problem) = worker.line(text, line, at) {
            worker.done.output.truncate(at);
            worker.done.failure = Some((at, FilterError::Input { line, problem }));
            break;
        }
    }
    worker.done
}

fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

struct Worker<'a> {
    config: &'a Config,
    hasher: &'a mut Hasher,
    done: Done,
    /// Streams whose SCHEMA this batch holds.
    schemas: HashSet<String>,
    /// Streams whose first RECORD in this batch is noted.
    recorded: HashSet<String>,
}

impl Worker<'_> {
    /// Handles one line (without its line end); `at` is the output written so far.
    fn line(&mut self, line: &[u8], number: u64, at: usize) -> Result<(), String> {
        if line.len() > MAX_LINE_BYTES {
            return Err(format!(
                "the line is longer than {} MiB",
                MAX_LINE_BYTES / (1024 * 1024)
            ));
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        // Checked once here, so that the JSON parser need not check each value again.
        let text = std::str::from_utf8(line)
            .map_err(|err| format!("not UTF-8 (at column {})", err.valid_up_to() + 1))?;
        self.done.counts.messages += 1;
        let message: Message = serde_json::from_str(text).map_err(|err| {
            if err.classify() == Category::Data {
                format!(
                    "a Singer message is a JSON object, this line holds {}",
                    kind_of(line)
                )
            } else {
                json_error(&err)
            }
        })?;
        match message.string("type")?.as_ref() {
            "SCHEMA" => self.schema(text, &message, number, at),
            "RECORD" => self.record(text, &message, number, at),
            "BATCH" => {
                let stream = message.string("stream")?;
                if changing_rules(self.config, &stream).is_some() {
                    return Err(format!(
                        "stream `{stream}`: a BATCH message points at files ciguard cannot \
                         rewrite; turn off batch messages in the tap for the streams the config \
                         hashes or drops fields of"
                    ));
                }
                self.write_line(text);
                Ok(())
            }
            "STATE" => {
                self.write_line(text);
                self.done.holds_state = true;
                Ok(())
            }
            // ACTIVATE_VERSION and types this version does not know pass unchanged.
            _ => {
                self.write_line(text);
                Ok(())
            }
        }
    }

    fn schema(
        &mut self,
        line: &str,
        message: &Message<'_>,
        number: u64,
        at: usize,
    ) -> Result<(), String> {
        let stream = message.string("stream")?.into_owned();
        if let Some(rules) = changing_rules(self.config, &stream) {
            let mut message: Map<String, Value> =
                serde_json::from_str(line).map_err(|err| json_error(&err))?;
            check_properties(&message, &stream, rules)?;
            let Some(schema @ Value::Object(_)) = message.get_mut("schema") else {
                return Err(format!(
                    "stream `{stream}`: the SCHEMA message has no `schema` object"
                ));
            };
            rules.rewrite_schema(schema);
            // Writing into a Vec cannot fail, and a Value always serialises.
            let _ = serde_json::to_writer(&mut self.done.output, &message);
            self.done.output.push(b'\n');
        } else {
            self.write_line(line);
        }
        self.schemas.insert(stream.clone());
        self.done.events.push(Event {
            line: number,
            at,
            stream,
            is_schema: true,
        });
        Ok(())
    }

    fn record(
        &mut self,
        line: &str,
        message: &Message<'_>,
        number: u64,
        at: usize,
    ) -> Result<(), String> {
        let stream = message.string("stream")?;
        if !self.schemas.contains(stream.as_ref()) && !self.recorded.contains(stream.as_ref()) {
            self.recorded.insert(stream.to_string());
            self.done.events.push(Event {
                line: number,
                at,
                stream: stream.to_string(),
                is_schema: false,
            });
        }
        let record = match &message.record {
            Some(Ok(record)) => record,
            Some(Err(kind)) => {
                return Err(format!(
                    "stream `{stream}`: `record` is {kind}, not an object"
                ));
            }
            None => {
                return Err(format!(
                    "stream `{stream}`: the RECORD message has no `record`"
                ));
            }
        };
        let Some(rules) = changing_rules(self.config, &stream) else {
            self.write_line(line);
            return Ok(());
        };
        let out = &mut self.done.output;
        out.push(b'{');
        for (index, (name, value)) in message.members.iter().enumerate() {
            if index > 0 {
                out.push(b',');
            }
            raw::push_name(out, name);
            out.push(b':');
            match value {
                Some(value) => out.extend_from_slice(value.get().as_bytes()),
                None => rules
                    .write_record(record, self.hasher, out)
                    .map_err(|err| json_error(&err))?,
            }
        }
        out.extend_from_slice(b"}\n");
        self.done.counts.records_rewritten += 1;
        Ok(())
    }

    fn write_line(&mut self, line: &str) {
        self.done.output.extend_from_slice(line.as_bytes());
        self.done.output.push(b'\n');
    }
}

/// The rules that change `stream`'s records and schema, if any.
fn changing_rules<'a>(config: &'a Config, stream: &str) -> Option<&'a StreamRules> {
    config
        .rules_for(stream)
        .filter(|rules| !rules.is_identity())
}

/// Refuses a SCHEMA whose key or bookmark properties the rules would drop: a target needs them.
fn check_properties(
    message: &Map<String, Value>,
    stream: &str,
    rules: &StreamRules,
) -> Result<(), String> {
    for (list, what) in [
        ("key_properties", "key property"),
        ("bookmark_properties", "bookmark property"),
    ] {
        let Some(Value::Array(names)) = message.get(list) else {
            continue;
        };
        for name in names.iter().filter_map(Value::as_str) {
            if rules.top_level_fate(name) == Some(Action::Drop) {
                return Err(format!(
                    "stream `{stream}`: {what} `{name}` is dropped (by `drop` or `unlisted: \
                     drop`), but the target needs it; hash it or keep it instead"
                ));
            }
        }
    }
    Ok(())
}

/// A JSON syntax error by kind and column only: serde_json's own message may quote the input.
fn json_error(err: &serde_json::Error) -> String {
    let what = match err.classify() {
        Category::Eof => "the JSON ends early",
        _ => "malformed JSON",
    };
    format!("{what} at column {}", err.column())
}

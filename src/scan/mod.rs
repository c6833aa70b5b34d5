//! `ciguard scan`: finds secrets that already leaked into stored text (job logs, artifacts,
//! files) with the matcher `run` masks with: every form of every registered value, and every
//! detector.
//!
//! [`Scanner`] streams one input through a [`Scrubber`] that records its masks, and turns each
//! mask's offsets into 1-based line and column; memory stays bounded whatever the input's size
//! or line length. [`Leaks::findings`] makes findings of them, naming the variable or the
//! detector, never the value. Nothing here does I/O or prints.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::findings::{Confidence, FileLocation, Finding, Location, Rule, Severity};
use crate::scrub::{Mask, MaskOrigin, Matcher, Scrubber};

/// A registered value found in clear.
pub static LEAKED_VARIABLE: Rule = Rule {
    id: "leaked-variable",
    severity: Severity::Critical,
    confidence: Confidence::High,
    summary: "the value of a credential variable is in clear in a stored log or file",
    why: "whoever can read the log or file (project members, anyone for a public project's job \
          logs, whoever downloads the artifact) can use the credential",
    fix: "rotate the credential, then erase the job (`ciguard scan --gitlab --erase --apply`) or \
          delete the file; run the job's commands under `ciguard run` so it cannot happen again",
    points_at_value: true,
};

/// A detector's hit: a credential nobody registered.
pub static LEAKED_SECRET: Rule = Rule {
    id: "leaked-secret",
    severity: Severity::High,
    confidence: Confidence::Medium,
    summary: "a credential (by its shape) is in clear in a stored log or file",
    why: "a token, key or password printed by a job stays readable for as long as the log or \
          file is kept",
    fix: "check whether it is a live credential; if so rotate it, then erase the job or delete \
          the file; mask it at the source with `ciguard run`",
    points_at_value: true,
};

/// The rules of `scan`.
pub static RULES: &[&Rule] = &[&LEAKED_VARIABLE, &LEAKED_SECRET];

/// Occurrences of one secret or detector in one input listed as findings; the rest are counted.
pub const LISTED_PER_ORIGIN: usize = 100;

/// Bytes of input per call to the scrubber.
pub const CHUNK: usize = 64 * 1024;

/// Where a leak was found, as findings show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A file (or standard input, shown as `-`).
    File(PathBuf),
    /// A job's log, read through the GitLab API.
    JobLog(JobLog),
}

/// A job whose log was scanned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobLog {
    /// The project's full path.
    pub project: String,
    /// The pipeline's id.
    pub pipeline: u64,
    /// The job's id.
    pub job: u64,
    /// The job's name.
    pub name: String,
    /// The job's page.
    pub web_url: String,
}

/// One leak: where it starts and ends (1-based; the end column is just past it) and what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Leak {
    /// Line of its first byte.
    pub line: u32,
    /// Column (in characters) of its first byte.
    pub column: u32,
    /// Line of its last byte.
    pub end_line: u32,
    /// Column just past its last byte.
    pub end_column: u32,
    /// The registered secret or the detector.
    pub origin: MaskOrigin,
}

/// The leaks of one input.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Leaks {
    /// The first [`LISTED_PER_ORIGIN`] of each origin, in input order.
    pub listed: Vec<Leak>,
    /// How many more of each origin were found and not listed.
    pub unlisted: BTreeMap<MaskOrigin, u64>,
    /// Bytes scanned.
    pub bytes: u64,
    /// Detector hits left out as evidently fake (placeholders, examples).
    pub set_aside: u64,
}

impl Leaks {
    /// No leak.
    pub fn is_empty(&self) -> bool {
        self.listed.is_empty()
    }

    /// Findings at `place`; `names[i]` names the secret registered `i`-th, as messages show it
    /// (e.g. ``"`DB_PASSWORD`"``).
    pub fn findings(&self, place: &Place, names: &[String]) -> Vec<Finding> {
        let mut first_of = BTreeMap::new();
        let mut findings: Vec<Finding> = self
            .listed
            .iter()
            .enumerate()
            .map(|(i, leak)| {
                first_of.entry(leak.origin).or_insert(i);
                finding(leak, place, names)
            })
            .collect();
        for (origin, more) in &self.unlisted {
            if let Some(&i) = first_of.get(origin) {
                let plural = if *more == 1 { "" } else { "s" };
                findings[i].message += &format!(" ({more} more occurrence{plural} not listed)");
            }
        }
        findings
    }
}

fn finding(leak: &Leak, place: &Place, names: &[String]) -> Finding {
    let (rule, what) = match leak.origin {
        MaskOrigin::Secret { index, .. } => {
            let name = names
                .get(index)
                .map_or("a credential variable", String::as_str);
            (&LEAKED_VARIABLE, format!("the value of {name}"))
        }
        MaskOrigin::Detector(detector) => (
            &LEAKED_SECRET,
            format!("a credential found by detector `{}`", detector.id()),
        ),
    };
    let (path, message, logical) = match place {
        Place::File(path) => (
            path.clone(),
            format!("{what} is in clear"),
            format!("line {}", leak.line),
        ),
        Place::JobLog(job) => (
            PathBuf::from(&job.web_url),
            format!(
                "{what} is in the log of job {} `{}` (pipeline {} of {}), line {}",
                job.job, job.name, job.pipeline, job.project, leak.line
            ),
            format!("job {} line {}", job.job, leak.line),
        ),
    };
    Finding::new(
        rule,
        Location::File(FileLocation {
            path,
            line: leak.line,
            column: leak.column,
            end_line: leak.end_line,
            end_column: leak.end_column,
            logical,
        }),
        message,
    )
}

/// Scans one input, fed in pieces of any size.
pub struct Scanner {
    scrubber: Scrubber,
    /// Where line and column counting has reached.
    cursor: Cursor,
    /// The input from the cursor on, at most the scrubber's held-back bytes plus one piece.
    tail: Vec<u8>,
    /// The mask still open in the scrubber, placed as soon as it was written.
    open: Option<OpenMask>,
    /// The scrubbed output, thrown away.
    out: Vec<u8>,
    leaks: Leaks,
    counts: BTreeMap<MaskOrigin, usize>,
}

/// Holds no input: it may be a secret.
impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("bytes", &self.leaks.bytes)
            .field("listed", &self.leaks.listed.len())
            .finish_non_exhaustive()
    }
}

/// A mask the scrubber has written and may still grow: where it starts, and its first bytes
/// (up to [`JUDGED`]) as far as the cursor has passed them. No `Debug`: the bytes are a secret.
struct OpenMask {
    at: Cursor,
    text: Vec<u8>,
}

/// How much of a detector's hit is kept to judge whether it is evidently fake.
const JUDGED: u64 = 4096;

/// A position in the input: absolute offset, 1-based line, 1-based character column.
#[derive(Debug, Clone, Copy)]
struct Cursor {
    offset: u64,
    line: u32,
    column: u32,
}

impl Scanner {
    /// A scanner at the start of an input.
    pub fn new(matcher: Arc<Matcher>) -> Self {
        let mut scrubber = Scrubber::new(matcher);
        scrubber.record_masks();
        Scanner {
            scrubber,
            cursor: Cursor {
                offset: 0,
                line: 1,
                column: 1,
            },
            tail: Vec::new(),
            open: None,
            out: Vec::new(),
            leaks: Leaks::default(),
            counts: BTreeMap::new(),
        }
    }

    /// Scans the next bytes.
    pub fn feed(&mut self, input: &[u8]) {
        self.tail.extend_from_slice(input);
        self.leaks.bytes += input.len() as u64;
        self.scrubber.feed(input, &mut self.out);
        self.out.clear();
        self.collect();
        // Nothing before the bytes still held back can start a mask any more.
        let safe = self.leaks.bytes - self.scrubber.held_back() as u64;
        self.advance_to(safe);
    }

    /// Ends the input and returns its leaks.
    pub fn finish(mut self) -> Leaks {
        self.scrubber.finish(&mut self.out);
        self.collect();
        self.leaks
    }

    /// Places the masks the scrubber has written (leaving out detector hits that are evidently
    /// fake), and the start of the one still open.
    fn collect(&mut self) {
        for Mask { start, end, origin } in self.scrubber.take_masks() {
            let (from, mut text) = match self.open.take() {
                Some(open) if open.at.offset == start => (open.at, open.text),
                _ => (self.advance_to(start), Vec::new()),
            };
            // The rest of its judged part is still in `tail`: the cursor is not past its end.
            let judged_end = end.min(start + JUDGED);
            if self.cursor.offset < judged_end {
                text.extend_from_slice(&self.tail[..(judged_end - self.cursor.offset) as usize]);
            }
            let to = self.advance_to(end);
            if let MaskOrigin::Detector(detector) = origin
                && detector.is_evidently_fake(&text)
            {
                self.leaks.set_aside += 1;
                continue;
            }
            let count = self.counts.entry(origin).or_default();
            *count += 1;
            if *count > LISTED_PER_ORIGIN {
                *self.leaks.unlisted.entry(origin).or_default() += 1;
                continue;
            }
            self.leaks.listed.push(Leak {
                line: from.line,
                column: from.column,
                end_line: to.line,
                end_column: to.column,
                origin,
            });
        }
        if let Some(start) = self.scrubber.open_mask_start()
            && self
                .open
                .as_ref()
                .is_none_or(|open| open.at.offset != start)
        {
            let at = self.advance_to(start);
            self.open = Some(OpenMask {
                at,
                text: Vec::new(),
            });
        }
    }

    /// Moves the cursor to `offset` (never back), counting lines and characters, and drops the
    /// input before it.
    fn advance_to(&mut self, offset: u64) -> Cursor {
        let Some(step) = offset.checked_sub(self.cursor.offset) else {
            return self.cursor;
        };
        if let Some(open) = &mut self.open {
            // Keep the first bytes of the open mask that the cursor passes.
            let from = self.cursor.offset.max(open.at.offset);
            let to = offset.min(open.at.offset + JUDGED);
            if from < to {
                let base = self.cursor.offset;
                open.text
                    .extend_from_slice(&self.tail[(from - base) as usize..(to - base) as usize]);
            }
        }
        let passed = &self.tail[..step as usize];
        let after_line = match memchr::memrchr(b'\n', passed) {
            Some(last) => {
                let lines = memchr::memchr_iter(b'\n', passed).count();
                self.cursor.line = self
                    .cursor
                    .line
                    .saturating_add(u32::try_from(lines).unwrap_or(u32::MAX));
                self.cursor.column = 1;
                &passed[last + 1..]
            }
            None => passed,
        };
        // A character starts at every byte that is not a UTF-8 continuation byte.
        let characters = after_line.iter().filter(|&&b| b & 0xC0 != 0x80).count();
        self.cursor.column = self
            .cursor
            .column
            .saturating_add(u32::try_from(characters).unwrap_or(u32::MAX));
        self.cursor.offset = offset;
        self.tail.drain(..step as usize);
        self.cursor
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scrub::{Detector, MatcherBuilder};

    #[test]
    fn each_rule_has_a_section_in_the_scan_docs() {
        const DOC: &str = include_str!("../../docs/scan.md");
        for rule in RULES {
            assert!(
                DOC.contains(&format!("\n## {}\n", rule.id)),
                "docs/scan.md has no section `## {}`",
                rule.id
            );
        }
    }

    fn matcher() -> Arc<Matcher> {
        let mut builder = MatcherBuilder::new();
        builder.secret(b"s3cr3t-value", "variables");
        Arc::new(builder.build())
    }

    fn scan_in_pieces(input: &[u8], size: usize) -> Leaks {
        let mut scanner = Scanner::new(matcher());
        for piece in input.chunks(size) {
            scanner.feed(piece);
        }
        scanner.finish()
    }

    #[test]
    fn leaks_are_placed_by_line_and_character_whatever_the_pieces() {
        let input =
            "start\n\u{e9}t\u{e9} s3cr3t-value\n\nx glpat-abcdefghij0123456789\ns3cr3t-value";
        let secret = MaskOrigin::Secret {
            index: 0,
            source: "variables",
        };
        let expected = vec![
            (2, 5, 2, 17, secret),
            (4, 9, 4, 29, MaskOrigin::Detector(Detector::GitlabToken)),
            (5, 1, 5, 13, secret),
        ];
        for size in 1..=input.len() {
            let leaks = scan_in_pieces(input.as_bytes(), size);
            let got: Vec<_> = leaks
                .listed
                .iter()
                .map(|l| (l.line, l.column, l.end_line, l.end_column, l.origin))
                .collect();
            assert_eq!(got, expected, "pieces of {size}");
            assert_eq!(leaks.bytes, input.len() as u64);
        }
    }

    #[test]
    fn a_leak_over_several_lines_and_pieces_keeps_where_it_started() {
        let body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7".repeat(3);
        let input = format!(
            "key:\n  -----BEGIN PRIVATE KEY-----\n{body}\n{body}\n-----END PRIVATE KEY-----\nnext\n"
        );
        for size in [1, 2, 7, 64, 1000] {
            let leaks = scan_in_pieces(input.as_bytes(), size);
            let got: Vec<_> = leaks
                .listed
                .iter()
                .map(|l| (l.line, l.column, l.end_line, l.origin))
                .collect();
            let pem = MaskOrigin::Detector(Detector::PemPrivateKey);
            assert_eq!(got, vec![(2, 3, 5, pem)], "pieces of {size}");
        }
    }

    #[test]
    fn evident_fakes_are_set_aside_whatever_the_pieces() {
        let input = "a GR1348941exampleexample b\nc glpat-Abcdefghij0123example\nd glpat-Abcdefghij0123456789xy\n";
        for size in 1..=input.len() {
            let leaks = scan_in_pieces(input.as_bytes(), size);
            let lines: Vec<u32> = leaks.listed.iter().map(|l| l.line).collect();
            assert_eq!(lines, [3], "pieces of {size}");
            assert_eq!(leaks.set_aside, 2, "pieces of {size}");
        }
    }

    #[test]
    fn past_the_listed_number_leaks_are_counted_and_named_once() {
        let input = "s3cr3t-value\n".repeat(LISTED_PER_ORIGIN + 3);
        let leaks = scan_in_pieces(input.as_bytes(), CHUNK);
        assert_eq!(leaks.listed.len(), LISTED_PER_ORIGIN);
        assert_eq!(leaks.listed.last().map(|l| l.line), Some(100));
        let findings = leaks.findings(&Place::File("job.log".into()), &["`DB_PASSWORD`".into()]);
        assert_eq!(findings.len(), LISTED_PER_ORIGIN);
        assert_eq!(
            findings[0].message,
            "the value of `DB_PASSWORD` is in clear (3 more occurrences not listed)"
        );
        assert_eq!(findings[0].rule.id, "leaked-variable");
        assert_eq!(
            findings[1].message,
            "the value of `DB_PASSWORD` is in clear"
        );
    }

    #[test]
    fn a_job_log_finding_names_the_job_and_points_at_its_page() {
        let leaks = scan_in_pieces(b"ok\nAuthorization: Bearer abcdef0123456789xyz\n", 7);
        let job = JobLog {
            project: "data/elt".into(),
            pipeline: 41,
            job: 1207,
            name: "tap-postgres".into(),
            web_url: "https://gitlab.example.com/data/elt/-/jobs/1207".into(),
        };
        let findings = leaks.findings(&Place::JobLog(job), &[]);
        assert_eq!(findings.len(), 1);
        assert_eq!(findings[0].rule.id, "leaked-secret");
        assert_eq!(
            findings[0].location.to_string(),
            "https://gitlab.example.com/data/elt/-/jobs/1207:2:23"
        );
        assert!(
            findings[0]
                .message
                .contains("job 1207 `tap-postgres` (pipeline 41 of data/elt), line 2"),
            "{}",
            findings[0].message
        );
    }
}

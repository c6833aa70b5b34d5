//! Script-line scanning: splits shell text into simple commands and words, enough to recognise
//! what a command prints, where its output goes, and which variables it expands. The words of
//! every command scanned are kept end to end in one buffer ([`Commands`]): a 10 MB script is
//! a few allocations, not millions.

use std::borrow::Cow;
use std::ops::Range;

/// Simple commands scanned from script text, each tagged with the number of the script line
/// it came from; read them through [`Command`] and [`Word`] views.
#[derive(Debug, Default)]
pub struct Commands {
    /// Each word's text (quotes removed) and, where it differs, its expandable form, end to end.
    buffer: String,
    words: Vec<WordSpan>,
    commands: Vec<CommandSpan>,
}

/// Where a word's text is in the buffer.
#[derive(Debug, Clone, Copy)]
struct WordSpan {
    start: u32,
    end: u32,
    /// Byte offset of its first character in the scanned text, with [`EXPANDABLE_FOLLOWS`].
    offset: u32,
}

/// A bit of [`WordSpan::offset`] (script text is far shorter than 2 GiB): the word's
/// expandable form differs from its text and follows it in the buffer, same length.
const EXPANDABLE_FOLLOWS: u32 = 1 << 31;

#[derive(Debug, Clone)]
struct CommandSpan {
    /// The script line it is on.
    line: u32,
    /// Its words in [`Commands::words`]: the assignments first, then the program and arguments.
    words: Range<u32>,
    assignments: u32,
    piped: bool,
    /// The file its stdout goes to, in the buffer.
    redirected_to_file: Option<Range<u32>>,
}

impl Commands {
    /// The commands of `text` alone (line 0).
    pub fn of(text: &str) -> Self {
        let mut commands = Commands::default();
        commands.scan(text, 0);
        commands
    }

    /// Scans `text`, script line number `line`, and adds its simple commands, comments removed.
    pub fn scan(&mut self, text: &str, line: usize) {
        Scanner::new(self, u32::try_from(line).unwrap_or(u32::MAX))
            .run(&text_without_heredoc_bodies(text));
    }

    /// Drops spare capacity once every script is scanned.
    pub fn shrink_to_fit(&mut self) {
        self.buffer.shrink_to_fit();
        self.words.shrink_to_fit();
        self.commands.shrink_to_fit();
    }

    /// How many commands there are.
    pub fn len(&self) -> usize {
        self.commands.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.commands.is_empty()
    }

    /// The commands numbered `range`, in order.
    pub fn range(
        &self,
        range: Range<usize>,
    ) -> impl DoubleEndedIterator<Item = Command<'_>> + Clone {
        self.commands
            .get(range)
            .unwrap_or_default()
            .iter()
            .map(move |span| Command { of: self, span })
    }

    /// Every command, in order.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = Command<'_>> + Clone {
        self.range(0..self.commands.len())
    }

    fn words(&self, range: Range<u32>) -> Words<'_> {
        let range = to_usize(range.start)..to_usize(range.end);
        Words {
            buffer: &self.buffer,
            spans: self.words.get(range).unwrap_or_default(),
        }
    }

    fn text(&self, range: Range<u32>) -> &str {
        self.buffer
            .get(to_usize(range.start)..to_usize(range.end))
            .unwrap_or_default()
    }
}

fn to_usize(n: u32) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// One simple command.
#[derive(Debug, Clone, Copy)]
pub struct Command<'s> {
    of: &'s Commands,
    span: &'s CommandSpan,
}

/// A command's words, as a slice of [`Word`]s.
#[derive(Debug, Clone, Copy)]
pub struct Words<'s> {
    buffer: &'s str,
    spans: &'s [WordSpan],
}

/// A word: its text with quotes removed, and its byte offset in the scanned text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Word<'s> {
    /// Quotes removed, `$VAR` kept as written.
    pub text: &'s str,
    /// Byte offset of its first character.
    pub offset: usize,
    /// `text` with single-quoted parts blanked (what the shell expands).
    expandable: &'s str,
}

impl<'s> Word<'s> {
    /// The variables the shell expands in this word (not those in single quotes).
    pub fn variables(&self) -> Vec<&'s str> {
        expanded_variables(self.expandable)
    }
}

impl<'s> Words<'s> {
    /// How many words.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The word at `index`.
    pub fn get(&self, index: usize) -> Option<Word<'s>> {
        self.spans.get(index).map(|span| self.word(span))
    }

    fn word(&self, span: &WordSpan) -> Word<'s> {
        let buffer = self.buffer;
        let text = buffer
            .get(to_usize(span.start)..to_usize(span.end))
            .unwrap_or_default();
        let expandable = if span.offset & EXPANDABLE_FOLLOWS == 0 {
            text
        } else {
            let start = to_usize(span.end);
            buffer.get(start..start + text.len()).unwrap_or_default()
        };
        Word {
            text,
            offset: to_usize(span.offset & !EXPANDABLE_FOLLOWS),
            expandable,
        }
    }

    /// The first word.
    pub fn first(&self) -> Option<Word<'s>> {
        self.get(0)
    }

    /// The words from `index` on (none past the end).
    pub fn from(&self, index: usize) -> Words<'s> {
        Words {
            buffer: self.buffer,
            spans: self.spans.get(index..).unwrap_or_default(),
        }
    }

    /// The first word and the rest.
    pub fn split_first(&self) -> Option<(Word<'s>, Words<'s>)> {
        Some((self.first()?, self.from(1)))
    }

    /// The words in order.
    pub fn iter(&self) -> WordIter<'s> {
        self.into_iter()
    }

    /// The words' texts in order.
    pub fn texts(&self) -> Vec<&'s str> {
        self.iter().map(|w| w.text).collect()
    }
}

impl<'s> IntoIterator for Words<'s> {
    type Item = Word<'s>;
    type IntoIter = WordIter<'s>;

    fn into_iter(self) -> WordIter<'s> {
        WordIter {
            buffer: self.buffer,
            spans: self.spans.iter(),
        }
    }
}

/// The words of a [`Words`], in order.
#[derive(Debug, Clone)]
pub struct WordIter<'s> {
    buffer: &'s str,
    spans: std::slice::Iter<'s, WordSpan>,
}

impl<'s> WordIter<'s> {
    fn word(&self, span: &WordSpan) -> Word<'s> {
        Words {
            buffer: self.buffer,
            spans: &[],
        }
        .word(span)
    }
}

impl<'s> Iterator for WordIter<'s> {
    type Item = Word<'s>;

    fn next(&mut self) -> Option<Word<'s>> {
        let span = self.spans.next()?;
        Some(self.word(span))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.spans.size_hint()
    }
}

impl DoubleEndedIterator for WordIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let span = self.spans.next_back()?;
        Some(self.word(span))
    }
}

impl ExactSizeIterator for WordIter<'_> {}

/// Programs and shell keywords that run the rest of their words as the command.
const WRAPPERS: &[&str] = &[
    "sudo", "exec", "command", "time", "nohup", "eval", "xargs", "if", "then", "do", "else",
    "elif", "while", "until", "!",
];

impl<'s> Command<'s> {
    /// Its words, quotes removed, leading `NAME=value` assignments and wrappers (`sudo`,
    /// `exec`, ...) dropped.
    pub fn words(&self) -> Words<'s> {
        let words = &self.span.words;
        self.of
            .words(words.start + self.span.assignments..words.end)
    }

    /// `NAME=value` assignments before the command (or the whole command when it is one).
    pub fn assignments(&self) -> Words<'s> {
        let words = &self.span.words;
        self.of
            .words(words.start..words.start + self.span.assignments)
    }

    /// The number of the script line it is on (as given to [`Commands::scan`]).
    pub fn line(&self) -> usize {
        to_usize(self.span.line)
    }

    /// Its stdout goes into a pipe.
    pub fn piped(&self) -> bool {
        self.span.piped
    }

    /// The file its stdout goes to (`> file`, `>> file`), if any.
    pub fn redirected_to_file(&self) -> Option<&'s str> {
        self.span
            .redirected_to_file
            .clone()
            .map(|range| self.of.text(range))
    }

    /// The program, if there is one.
    pub fn program(&self) -> Option<&'s str> {
        self.words().first().map(|w| w.text)
    }

    /// The words after the program.
    pub fn args(&self) -> Words<'s> {
        self.words().from(1)
    }

    /// Whether the program is one of `names` (by its file name, so `/usr/bin/env` is `env`).
    pub fn is(&self, names: &[&str]) -> bool {
        self.program().is_some_and(|program| {
            let name = match program.bytes().rposition(|b| b == b'/') {
                Some(slash) => program.get(slash + 1..).unwrap_or_default(),
                None => program,
            };
            names.contains(&name)
        })
    }

    /// Whether its output reaches the job log (neither piped nor written to a file).
    pub fn prints_to_log(&self) -> bool {
        !self.span.piped && self.span.redirected_to_file.is_none()
    }
}

/// Scans text into a [`Commands`].
struct Scanner<'c> {
    into: &'c mut Commands,
    line: u32,
    /// The current command's words, before redirections, assignments and wrappers are sorted.
    words: Vec<WordSpan>,
    /// Where the current word starts in the buffer, and in the text.
    word_start: Option<(usize, usize)>,
    /// The current word's expandable form, when a single-quoted part made it differ.
    expandable: String,
    quoted: bool,
    in_double: bool,
}

impl<'c> Scanner<'c> {
    fn new(into: &'c mut Commands, line: u32) -> Self {
        Scanner {
            into,
            line,
            words: Vec::new(),
            word_start: None,
            expandable: String::new(),
            quoted: false,
            in_double: false,
        }
    }

    fn run(mut self, text: &str) {
        let mut chars = text.char_indices().peekable();
        while let Some((offset, c)) = chars.next() {
            match c {
                '\\' => {
                    if let Some((_, next)) = chars.next()
                        && next != '\n'
                    {
                        self.push_char(next, offset);
                    }
                }
                '\'' if !self.in_double => {
                    self.start_word(offset);
                    for (_, quoted) in chars.by_ref() {
                        if quoted == '\'' {
                            break;
                        }
                        self.push_quoted(quoted);
                    }
                }
                '"' => {
                    self.start_word(offset);
                    self.in_double = !self.in_double;
                }
                _ if self.in_double => self.push_char(c, offset),
                '$' if chars.peek().map(|(_, n)| *n) == Some('(') => {
                    // Command substitution: kept inside the word, parentheses balanced.
                    self.push_char(c, offset);
                    let mut depth = 0usize;
                    for (inner_offset, inner) in chars.by_ref() {
                        self.push_char(inner, inner_offset);
                        match inner {
                            '(' => depth += 1,
                            ')' => {
                                depth = depth.saturating_sub(1);
                                if depth == 0 {
                                    break;
                                }
                            }
                            _ => {}
                        }
                    }
                }
                '#' if self.word_start.is_none() => {
                    for (_, skipped) in chars.by_ref() {
                        if skipped == '\n' {
                            break;
                        }
                    }
                    self.end_command(false);
                }
                ' ' | '\t' => self.end_word(),
                '\n' | ';' => self.end_command(false),
                '&' => {
                    if chars.peek().map(|(_, n)| *n) == Some('&') {
                        chars.next();
                    }
                    if self.current_word().ends_with('>') {
                        // `>&2`: still the log.
                        self.push_char(c, offset);
                    } else {
                        self.end_command(false);
                    }
                }
                '|' => {
                    if chars.peek().map(|(_, n)| *n) == Some('|') {
                        chars.next();
                        self.end_command(false);
                    } else {
                        self.end_command(true);
                    }
                }
                '(' | ')' | '{' | '}' if self.word_start.is_none() => self.end_command(false),
                _ => self.push_char(c, offset),
            }
        }
        self.end_command(false);
    }

    fn current_word(&self) -> &str {
        self.word_start
            .and_then(|(start, _)| self.into.buffer.get(start..))
            .unwrap_or_default()
    }

    fn start_word(&mut self, offset: usize) {
        if self.word_start.is_none() {
            self.word_start = Some((self.into.buffer.len(), offset));
            self.expandable.clear();
            self.quoted = false;
        }
    }

    fn push_char(&mut self, c: char, offset: usize) {
        self.start_word(offset);
        self.into.buffer.push(c);
        self.expandable.push(c);
    }

    /// A single-quoted character: in the word, blanked in its expandable form.
    fn push_quoted(&mut self, c: char) {
        self.into.buffer.push(c);
        self.expandable
            .extend(std::iter::repeat_n(' ', c.len_utf8()));
        self.quoted = true;
    }

    fn end_word(&mut self) {
        let Some((start, offset)) = self.word_start.take() else {
            return;
        };
        let end = self.into.buffer.len();
        let mut offset = to_u32(offset) & !EXPANDABLE_FOLLOWS;
        if self.quoted && self.expandable != self.into.buffer[start..end] {
            self.into.buffer.push_str(&self.expandable);
            offset |= EXPANDABLE_FOLLOWS;
        }
        self.words.push(WordSpan {
            start: to_u32(start),
            end: to_u32(end),
            offset,
        });
    }

    fn text(&self, span: &WordSpan) -> &str {
        self.into.text(span.start..span.end)
    }

    fn end_command(&mut self, piped: bool) {
        self.end_word();
        self.in_double = false;
        let words = std::mem::take(&mut self.words);
        if words.is_empty() {
            if piped && let Some(last) = self.into.commands.last_mut() {
                last.piped = true;
            }
            return;
        }
        let mut redirected_to_file = None;
        let mut kept = Vec::with_capacity(words.len());
        let mut iter = words.iter().peekable();
        while let Some(word) = iter.next() {
            let text = self.text(word);
            let target = text.trim_start_matches(['1', '&']);
            if target.starts_with('>') && !text.starts_with('2') {
                let inline = target.trim_start_matches('>');
                let file = if inline.is_empty() {
                    iter.next().map_or(word.end..word.end, |w| w.start..w.end)
                } else {
                    word.end - to_u32(inline.len())..word.end
                };
                let name = self.into.text(file.clone());
                if !name.starts_with('&') && name != "/dev/stdout" && name != "/dev/stderr" {
                    redirected_to_file = Some(file);
                }
            } else if text.starts_with("2>") || text.starts_with('<') {
                if text == "2>" || text == "<" || text == "<<" {
                    iter.next();
                }
            } else {
                kept.push(*word);
            }
        }
        let assignments = kept
            .iter()
            .take_while(|w| is_assignment(self.text(w)))
            .count();
        let wrappers = kept[assignments..]
            .iter()
            .take_while(|w| {
                let text = self.text(w);
                WRAPPERS.contains(&text) || text.starts_with('-')
            })
            .count();
        kept.drain(assignments..assignments + wrappers);
        let start = to_u32(self.into.words.len());
        self.into.words.extend(kept);
        self.into.commands.push(CommandSpan {
            line: self.line,
            words: start..to_u32(self.into.words.len()),
            assignments: to_u32(assignments),
            piped,
            redirected_to_file,
        });
        self.words = words;
        self.words.clear();
    }
}

/// `text` with each here-document's body and closing delimiter blanked (offsets kept): they
/// are data, not commands.
fn text_without_heredoc_bodies(text: &str) -> Cow<'_, str> {
    if !text.contains("<<") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut delimiter: Option<(String, bool)> = None;
    for line in text.split_inclusive('\n') {
        if let Some((word, strip_tabs)) = &delimiter {
            let content = line.trim_end_matches(['\n', '\r']);
            let content = if *strip_tabs {
                content.trim_start_matches('\t')
            } else {
                content
            };
            if content == word {
                delimiter = None;
            }
            out.extend(line.chars().map(|c| if c == '\n' { c } else { ' ' }));
            continue;
        }
        delimiter = heredoc_delimiter(line);
        out.push_str(line);
    }
    Cow::Owned(out)
}

/// The delimiter of a here-document that starts on `line` (`<<EOF`, `<<-'EOF'`), and whether
/// leading tabs are stripped.
fn heredoc_delimiter(line: &str) -> Option<(String, bool)> {
    let (_, rest) = line.split_once("<<")?;
    if rest.starts_with('<') {
        return None;
    }
    let strip_tabs = rest.starts_with('-');
    let rest = rest.trim_start_matches('-').trim_start();
    let word: String = rest
        .trim_start_matches(['\'', '"'])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    (!word.is_empty()).then_some((word, strip_tabs))
}

/// The variables `text` expands: `$NAME` and `${NAME}` (also `${NAME:-x}`).
pub fn expanded_variables(text: &str) -> Vec<&str> {
    let bytes = text.as_bytes();
    let mut names = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' {
            let braced = bytes.get(i + 1) == Some(&b'{');
            let start = i + 1 + usize::from(braced);
            let end = start
                + bytes[start..]
                    .iter()
                    .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_')
                    .count();
            if end > start && !bytes[start].is_ascii_digit() {
                names.push(&text[start..end]);
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    names
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=').is_some_and(|(name, _)| {
        !name.is_empty()
            && !name.starts_with(|c: char| c.is_ascii_digit())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn programs(text: &str) -> Vec<(String, bool)> {
        Commands::of(text)
            .iter()
            .map(|c| (c.program().unwrap_or("").to_owned(), c.prints_to_log()))
            .collect()
    }

    #[test]
    fn splits_on_separators_and_marks_pipes_and_files() {
        assert_eq!(
            programs("echo $A | docker login --password-stdin && env > out.env; printenv >&2"),
            vec![
                ("echo".into(), false),
                ("docker".into(), true),
                ("env".into(), false),
                ("printenv".into(), true),
            ]
        );
    }

    #[test]
    fn comments_and_quotes() {
        let scanned = Commands::of("# env\necho 'a b' \"c $D\" # printenv\n");
        assert_eq!(scanned.len(), 1);
        let command = scanned.iter().next().expect("one command");
        assert_eq!(command.words().texts(), vec!["echo", "a b", "c $D"]);
        assert_eq!(command.words().get(2).map(|w| w.offset), Some(17));
    }

    #[test]
    fn assignments_and_wrappers_are_not_the_program() {
        let scanned = Commands::of("FOO=1 sudo -E env");
        let command = scanned.iter().next().expect("one command");
        assert_eq!(command.program(), Some("env"));
        assert_eq!(command.assignments().texts(), vec!["FOO=1"]);
    }

    #[test]
    fn single_quotes_do_not_expand() {
        let scanned = Commands::of("echo '$A' \"$B\" $C 'x$D'$E");
        let command = scanned.iter().next().expect("one command");
        let names: Vec<&str> = command.args().iter().flat_map(|w| w.variables()).collect();
        assert_eq!(names, vec!["B", "C", "E"]);
        assert_eq!(command.args().texts(), vec!["$A", "$B", "$C", "x$D$E"]);
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let scanned = Commands::of("cat > f <<'EOF'\nenv\nEOF\nprintenv\ncat <<< \"$A\"\n");
        let programs: Vec<&str> = scanned.iter().filter_map(|c| c.program()).collect();
        assert_eq!(programs, vec!["cat", "printenv", "cat"]);
        let first = scanned.iter().next().expect("cat");
        assert_eq!(first.redirected_to_file(), Some("f"));
    }

    #[test]
    fn commands_of_several_lines_share_one_store_and_know_their_line() {
        let mut scanned = Commands::default();
        scanned.scan("echo one >>out.txt; env | sort", 0);
        scanned.scan("sudo printenv", 1);
        let found: Vec<(usize, Option<&str>, bool, Option<&str>)> = scanned
            .iter()
            .map(|c| (c.line(), c.program(), c.piped(), c.redirected_to_file()))
            .collect();
        assert_eq!(
            found,
            vec![
                (0, Some("echo"), false, Some("out.txt")),
                (0, Some("env"), true, None),
                (0, Some("sort"), false, None),
                (1, Some("printenv"), false, None),
            ]
        );
        assert_eq!(scanned.range(1..3).count(), 2);
    }

    #[test]
    fn finds_expanded_variables() {
        assert_eq!(
            expanded_variables("x $A ${B:-c} $1 $$ ${C}"),
            vec!["A", "B", "C"]
        );
    }
}

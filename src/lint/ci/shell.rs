//! Script-line scanning: splits shell text into simple commands and words, enough to recognise
//! what a command prints, where its output goes, and which variables it expands.

/// One simple command of a script line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Its words, quotes removed, leading `NAME=value` assignments and wrappers (`sudo`,
    /// `exec`, ...) dropped.
    pub words: Vec<Word>,
    /// `NAME=value` assignments before the command (or the whole command when it is one).
    pub assignments: Vec<Word>,
    /// Its stdout goes into a pipe.
    pub piped: bool,
    /// Its stdout goes to a file (`> file`, `>> file`, `tee`-less).
    pub redirected_to_file: Option<String>,
}

/// A word: its text with quotes removed, and its byte offset in the scanned text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Word {
    /// Quotes removed, `$VAR` kept as written.
    pub text: String,
    /// Byte offset of its first character.
    pub offset: usize,
    /// `text` with single-quoted parts blanked (what the shell expands), when that differs.
    expandable: Option<String>,
}

impl Word {
    /// The variables the shell expands in this word (not those in single quotes).
    pub fn variables(&self) -> Vec<&str> {
        expanded_variables(self.expandable.as_deref().unwrap_or(&self.text))
    }
}

/// Programs and shell keywords that run the rest of their words as the command.
const WRAPPERS: &[&str] = &[
    "sudo", "exec", "command", "time", "nohup", "eval", "xargs", "if", "then", "do", "else",
    "elif", "while", "until", "!",
];

impl Command {
    /// The program, if there is one.
    pub fn program(&self) -> Option<&str> {
        self.words.first().map(|w| w.text.as_str())
    }

    /// The words after the program.
    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or_default()
    }

    /// Whether the program is one of `names` (by its file name, so `/usr/bin/env` is `env`).
    pub fn is(&self, names: &[&str]) -> bool {
        self.program()
            .map(|p| p.rsplit('/').next().unwrap_or(p))
            .is_some_and(|p| names.contains(&p))
    }

    /// Whether its output reaches the job log (neither piped nor written to a file).
    pub fn prints_to_log(&self) -> bool {
        !self.piped && self.redirected_to_file.is_none()
    }
}

/// The simple commands of `text`, comments removed.
pub fn commands(text: &str) -> Vec<Command> {
    let text = without_heredoc_bodies(text);
    let mut scanner = Scanner::default();
    let mut chars = text.char_indices().peekable();
    while let Some((offset, c)) = chars.next() {
        match c {
            '\\' => {
                if let Some((_, next)) = chars.next()
                    && next != '\n'
                {
                    scanner.push_char(next, offset);
                }
            }
            '\'' if !scanner.in_double => {
                scanner.start_word(offset);
                for (_, quoted) in chars.by_ref() {
                    if quoted == '\'' {
                        break;
                    }
                    scanner.word.push(quoted);
                    scanner.expandable.push(' ');
                }
            }
            '"' => {
                scanner.start_word(offset);
                scanner.in_double = !scanner.in_double;
            }
            _ if scanner.in_double => scanner.push_char(c, offset),
            '$' if chars.peek().map(|(_, n)| *n) == Some('(') => {
                // Command substitution: kept inside the word, parentheses balanced.
                scanner.push_char(c, offset);
                let mut depth = 0usize;
                for (_, inner) in chars.by_ref() {
                    scanner.word.push(inner);
                    scanner.expandable.push(inner);
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
            '#' if scanner.word_start.is_none() => {
                for (_, skipped) in chars.by_ref() {
                    if skipped == '\n' {
                        break;
                    }
                }
                scanner.end_command(false);
            }
            ' ' | '\t' => scanner.end_word(),
            '\n' | ';' => scanner.end_command(false),
            '&' => {
                if chars.peek().map(|(_, n)| *n) == Some('&') {
                    chars.next();
                }
                if scanner.word.ends_with('>') {
                    // `>&2`: still the log.
                    scanner.push_char(c, offset);
                } else {
                    scanner.end_command(false);
                }
            }
            '|' => {
                if chars.peek().map(|(_, n)| *n) == Some('|') {
                    chars.next();
                    scanner.end_command(false);
                } else {
                    scanner.end_command(true);
                }
            }
            '(' | ')' | '{' | '}' if scanner.word_start.is_none() => scanner.end_command(false),
            _ => scanner.push_char(c, offset),
        }
    }
    scanner.end_command(false);
    scanner.commands
}

/// `text` with each here-document's body and closing delimiter blanked (offsets kept): they
/// are data, not commands.
fn without_heredoc_bodies(text: &str) -> String {
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
    out
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

#[derive(Default)]
struct Scanner {
    commands: Vec<Command>,
    words: Vec<Word>,
    word: String,
    expandable: String,
    word_start: Option<usize>,
    in_double: bool,
}

impl Scanner {
    fn start_word(&mut self, offset: usize) {
        self.word_start.get_or_insert(offset);
    }

    fn push_char(&mut self, c: char, offset: usize) {
        self.start_word(offset);
        self.word.push(c);
        self.expandable.push(c);
    }

    fn end_word(&mut self) {
        if let Some(offset) = self.word_start.take() {
            let text = std::mem::take(&mut self.word);
            let expandable = std::mem::take(&mut self.expandable);
            self.words.push(Word {
                expandable: (expandable != text).then_some(expandable),
                text,
                offset,
            });
        }
    }

    fn end_command(&mut self, piped: bool) {
        self.end_word();
        self.in_double = false;
        let words = std::mem::take(&mut self.words);
        if words.is_empty() {
            if piped && let Some(last) = self.commands.last_mut() {
                last.piped = true;
            }
            return;
        }
        let mut redirected_to_file = None;
        let mut kept = Vec::new();
        let mut iter = words.into_iter().peekable();
        while let Some(word) = iter.next() {
            let text = word.text.as_str();
            let target = text.trim_start_matches(['1', '&']);
            if target.starts_with('>') && !text.starts_with('2') {
                let inline = target.trim_start_matches('>');
                let file = if inline.is_empty() {
                    iter.next().map(|w| w.text).unwrap_or_default()
                } else {
                    inline.to_owned()
                };
                if !file.starts_with('&') && file != "/dev/stdout" && file != "/dev/stderr" {
                    redirected_to_file = Some(file);
                }
            } else if text.starts_with("2>") || text.starts_with('<') {
                if text == "2>" || text == "<" || text == "<<" {
                    iter.next();
                }
            } else {
                kept.push(word);
            }
        }
        let assignment_count = kept.iter().take_while(|w| is_assignment(&w.text)).count();
        let assignments: Vec<Word> = kept.drain(..assignment_count).collect();
        let wrapper_count = kept
            .iter()
            .take_while(|w| WRAPPERS.contains(&w.text.as_str()) || w.text.starts_with('-'))
            .count();
        kept.drain(..wrapper_count.min(kept.len()));
        self.commands.push(Command {
            words: kept,
            assignments,
            piped,
            redirected_to_file,
        });
    }
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
        commands(text)
            .into_iter()
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
        let cmds = commands("# env\necho 'a b' \"c $D\" # printenv\n");
        assert_eq!(cmds.len(), 1);
        let words: Vec<&str> = cmds[0].words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(words, vec!["echo", "a b", "c $D"]);
        assert_eq!(cmds[0].words[2].offset, 17);
    }

    #[test]
    fn assignments_and_wrappers_are_not_the_program() {
        let cmds = commands("FOO=1 sudo -E env");
        assert_eq!(cmds[0].program(), Some("env"));
        assert_eq!(cmds[0].assignments[0].text, "FOO=1");
    }

    #[test]
    fn single_quotes_do_not_expand() {
        let cmds = commands("echo '$A' \"$B\" $C");
        let names: Vec<&str> = cmds[0].args().iter().flat_map(Word::variables).collect();
        assert_eq!(names, vec!["B", "C"]);
    }

    #[test]
    fn heredoc_bodies_are_not_commands() {
        let cmds = commands("cat > f <<'EOF'\nenv\nEOF\nprintenv\ncat <<< \"$A\"\n");
        let programs: Vec<&str> = cmds.iter().filter_map(Command::program).collect();
        assert_eq!(programs, vec!["cat", "printenv", "cat"]);
    }

    #[test]
    fn finds_expanded_variables() {
        assert_eq!(
            expanded_variables("x $A ${B:-c} $1 $$ ${C}"),
            vec!["A", "B", "C"]
        );
    }
}

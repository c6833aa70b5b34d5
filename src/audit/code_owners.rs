//! GitLab's `CODEOWNERS`: sections (`[Name]`, optional `^[Name]`, with default owners), entries
//! of a path pattern and owners, `!pattern` exclusions; which owners must approve a change to a
//! file. Patterns as GitLab documents them: `/` anchors to the repository root, a pattern that
//! does not start with `/` matches at any depth (`README.md` is `/**/README.md`), a trailing `/`
//! matches everything under a directory, `*` stays within a path segment and `**` crosses them.

/// A parsed `CODEOWNERS` file.
#[derive(Debug, Default)]
pub struct CodeOwners {
    sections: Vec<Section>,
}

#[derive(Debug, Default)]
struct Section {
    /// `^[Name]`: its approvals are not required.
    optional: bool,
    /// The owners of entries that name none.
    default_owners: Vec<String>,
    entries: Vec<Entry>,
}

#[derive(Debug)]
struct Entry {
    pattern: String,
    /// `!pattern`: matching files have no owner in this section.
    exclusion: bool,
    owners: Vec<String>,
}

impl CodeOwners {
    /// Reads `text`; lines it cannot make sense of are left out, as GitLab does.
    pub fn parse(text: &str) -> Self {
        let mut sections = vec![Section::default()];
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if let Some(section) = section_header(line) {
                sections.push(section);
                continue;
            }
            let words = split_words(line);
            let Some((pattern, owners)) = words.split_first() else {
                continue;
            };
            let (pattern, exclusion) = match pattern.strip_prefix('!') {
                Some(pattern) => (pattern.to_owned(), true),
                None => (pattern.clone(), false),
            };
            let section = sections.last_mut().expect("a section is always open");
            section.entries.push(Entry {
                pattern,
                exclusion,
                owners: owners.iter().filter(|o| o.contains('@')).cloned().collect(),
            });
        }
        CodeOwners { sections }
    }

    /// The owners whose approval a change to `path` (relative to the root) needs: in each
    /// required section, those of the last entry that matches it.
    pub fn required_owners(&self, path: &str) -> Vec<&str> {
        let path = path.trim_start_matches('/');
        let mut owners = Vec::new();
        for section in self.sections.iter().filter(|s| !s.optional) {
            if section
                .entries
                .iter()
                .any(|e| e.exclusion && pattern_matches(&e.pattern, path))
            {
                continue;
            }
            let Some(entry) = section
                .entries
                .iter()
                .rev()
                .find(|e| !e.exclusion && pattern_matches(&e.pattern, path))
            else {
                continue;
            };
            let named = if entry.owners.is_empty() {
                &section.default_owners
            } else {
                &entry.owners
            };
            owners.extend(named.iter().map(String::as_str));
        }
        owners
    }
}

/// `[Name]`, `^[Name]`, `[Name][2]`, each maybe followed by default owners.
fn section_header(line: &str) -> Option<Section> {
    let (optional, rest) = match line.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, line),
    };
    let rest = rest.strip_prefix('[')?;
    let close = rest.find(']')?;
    let mut after = &rest[close + 1..];
    if let Some(count) = after.strip_prefix('[') {
        after = &count[count.find(']')? + 1..];
    }
    Some(Section {
        optional,
        default_owners: split_words(after)
            .into_iter()
            .filter(|o| o.contains('@'))
            .collect(),
        entries: Vec::new(),
    })
}

/// Words split on whitespace not escaped with `\`.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => word.extend(chars.next()),
            c if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            c => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// Whether a `CODEOWNERS` pattern matches `path`.
fn pattern_matches(pattern: &str, path: &str) -> bool {
    let (anchored, pattern) = match pattern.strip_prefix('/') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let pattern = match pattern.strip_suffix('/') {
        Some(directory) => format!("{directory}/**"),
        None => pattern.to_owned(),
    };
    // A literal directory (`/docs`) owns what is under it; a wildcard stays at its level.
    let literal = !pattern.contains(['*', '?']);
    let whole_or_under = |text: &str| {
        glob(pattern.as_bytes(), text.as_bytes())
            || (literal
                && text
                    .strip_prefix(pattern.as_str())
                    .is_some_and(|rest| rest.starts_with('/')))
    };
    if anchored {
        return whole_or_under(path);
    }
    std::iter::once(0)
        .chain(path.match_indices('/').map(|(at, _)| at + 1))
        .any(|start| whole_or_under(&path[start..]))
}

/// `*` within a segment, `**` across them, `?` one character of a segment.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern {
        [] => text.is_empty(),
        [b'*', b'*', rest @ ..] => {
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=text.len()).any(|skip| glob(rest, &text[skip..]))
        }
        [b'*', rest @ ..] => {
            let segment = text.iter().position(|&c| c == b'/').unwrap_or(text.len());
            (0..=segment).any(|skip| glob(rest, &text[skip..]))
        }
        [b'?', rest @ ..] => text.first().is_some_and(|&c| c != b'/') && glob(rest, &text[1..]),
        [c, rest @ ..] => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_gitlab_documents() {
        let cases = [
            ("/.gitlab-ci.yml", ".gitlab-ci.yml", true),
            ("/.gitlab-ci.yml", "sub/.gitlab-ci.yml", false),
            ("meltano.yml", "meltano.yml", true),
            ("meltano.yml", "elt/meltano.yml", true),
            ("*.yml", "ci/jobs.yml", true),
            ("/ci/", "ci/jobs/extract.yml", true),
            ("/ci/*", "ci/jobs/extract.yml", false),
            ("/ci/**/*.yml", "ci/jobs/extract.yml", true),
            ("/ci/*.yml", "ci/extract.yml", true),
            ("/docs", "docs/index.md", true),
            ("*", "anything/at/all", true),
            ("/*.md", "docs/a.md", false),
        ];
        for (pattern, path, expected) in cases {
            assert_eq!(pattern_matches(pattern, path), expected, "{pattern} {path}");
        }
    }

    #[test]
    fn the_last_match_of_each_required_section_owns_a_file() {
        let owners = CodeOwners::parse(
            "# comment\n* @everyone\n/.gitlab-ci.yml @platform\n/docs/ \n\
             [Data][2] @data-leads\nmeltano.yml\n^[Optional] @someone\n/.gitlab-ci.yml @x\n\
             [Excluded] @y\n*.yml\n!/generated.yml\nmy\\ file.txt @spaced\n",
        );
        assert_eq!(
            owners.required_owners(".gitlab-ci.yml"),
            ["@platform", "@y"]
        );
        assert_eq!(
            owners.required_owners("meltano.yml"),
            ["@everyone", "@data-leads", "@y"]
        );
        assert!(owners.required_owners("docs/a.md").is_empty());
        assert_eq!(owners.required_owners("generated.yml"), ["@everyone"]);
        assert_eq!(
            owners.required_owners("my file.txt"),
            ["@everyone", "@spaced"]
        );
        assert!(CodeOwners::parse("").required_owners("a").is_empty());
    }
}

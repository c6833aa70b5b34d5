//! A line diff for showing how a generated file differs from the one already there: the longest
//! common subsequence of lines, printed as `-`/`+` lines with a few lines of context.

/// Lines of context around each change.
const CONTEXT: usize = 2;

/// Above this many lines on either side, only a summary is given (the table is quadratic).
const MAX_LINES: usize = 5_000;

/// `old` and `new` as a diff; empty when they are the same.
pub fn lines(old: &str, new: &str) -> String {
    if old == new {
        return String::new();
    }
    let old: Vec<&str> = old.lines().collect();
    let new: Vec<&str> = new.lines().collect();
    if old.len() > MAX_LINES || new.len() > MAX_LINES {
        return format!(
            "(the files differ: {} lines there, {} generated)\n",
            old.len(),
            new.len()
        );
    }
    let ops = edit_script(&old, &new);
    let mut out = String::new();
    let mut last_printed: Option<usize> = None;
    for (at, op) in ops.iter().enumerate() {
        let near_change = ops[at.saturating_sub(CONTEXT)..(at + CONTEXT + 1).min(ops.len())]
            .iter()
            .any(|op| !matches!(op, Op::Same(_)));
        if !near_change {
            continue;
        }
        if last_printed.is_some_and(|last| last + 1 != at) {
            out.push_str("...\n");
        }
        let (mark, line) = match op {
            Op::Same(line) => (' ', line),
            Op::Removed(line) => ('-', line),
            Op::Added(line) => ('+', line),
        };
        out.push(mark);
        out.push_str(line);
        out.push('\n');
        last_printed = Some(at);
    }
    out
}

enum Op<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
}

fn edit_script<'a>(old: &[&'a str], new: &[&'a str]) -> Vec<Op<'a>> {
    // common[i][j]: length of the longest common subsequence of old[i..] and new[j..].
    let mut common = vec![vec![0usize; new.len() + 1]; old.len() + 1];
    for i in (0..old.len()).rev() {
        for j in (0..new.len()).rev() {
            common[i][j] = if old[i] == new[j] {
                common[i + 1][j + 1] + 1
            } else {
                common[i + 1][j].max(common[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::with_capacity(old.len() + new.len());
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            ops.push(Op::Same(old[i]));
            i += 1;
            j += 1;
        } else if i < old.len() && (j == new.len() || common[i + 1][j] >= common[i][j + 1]) {
            ops.push(Op::Removed(old[i]));
            i += 1;
        } else {
            ops.push(Op::Added(new[j]));
            j += 1;
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changes_and_their_context_are_shown() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nd\nE\nf\ng\nh\n";
        assert_eq!(lines(old, new), " c\n d\n-e\n+E\n f\n g\n");
        assert_eq!(lines(old, old), "");
        assert_eq!(lines("x\n", "x\ny\n"), " x\n+y\n");
        assert_eq!(
            lines("1\n2\n3\n4\n5\n6\n7\n8\n", "0\n1\n2\n3\n4\n5\n6\n7\n"),
            "+0\n 1\n 2\n...\n 6\n 7\n-8\n"
        );
        assert_eq!(lines("a\nb\n", "a\nc\n"), " a\n-b\n+c\n");
    }
}

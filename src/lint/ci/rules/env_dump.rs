//! `env-dump`: a script prints the whole environment (`env`, `printenv`, `set`, `export -p`,
//! `declare -p`, `/proc/*/environ`, or a Python, Node or Ruby one-liner).

use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::ci::{Context, ScriptCommand};
use crate::lint::ci::shell::Command;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: false,
    id: "env-dump",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A script prints the whole environment to the job log",
    why: "The environment of a CI job holds every CI/CD variable it receives. The runner masks only exact values of masked variables, so unmasked credentials, and masked ones that are longer, encoded or split over lines, appear in clear in the log.",
    fix: "Print only the variables you need, by name, and never credentials. To check a variable is set, test it (`test -n \"$NAME\"`) instead of printing it.",
};

/// What `command` dumps, if it prints the environment: a short description.
pub fn dump_kind(command: &Command) -> Option<&'static str> {
    let args: Vec<&str> = command.args().texts();
    let only_flags = args.iter().all(|a| a.starts_with('-'));
    if command.is(&["env", "printenv"]) && only_flags && !args.contains(&"-i") {
        return Some("prints every environment variable");
    }
    if command.is(&["set"]) && args.is_empty() {
        return Some("`set` without arguments prints every shell variable");
    }
    if command.is(&["export"]) && (args.is_empty() || args == ["-p"]) {
        return Some("prints every exported variable");
    }
    let declares_all = args.is_empty() || args.iter().any(|a| a.contains(['p', 'x']));
    if command.is(&["declare", "typeset"]) && only_flags && declares_all {
        return Some("prints every variable");
    }
    if command.is(&["compgen"]) && args.iter().any(|a| *a == "-v" || *a == "-e") {
        return Some("lists every variable name");
    }
    if args
        .iter()
        .any(|a| a.contains("/proc/") && a.contains("environ"))
    {
        return Some("reads a process environment from /proc");
    }
    let code = || {
        args.iter()
            .skip_while(|a| a.starts_with('-'))
            .copied()
            .collect::<Vec<_>>()
    };
    let one_liner = args
        .iter()
        .any(|a| matches!(*a, "-c" | "-e" | "-p" | "--eval" | "--print"));
    if !one_liner {
        return None;
    }
    let prints = |needle: &str| {
        code()
            .iter()
            .chain(args.iter())
            .any(|text| whole_object(text, needle))
    };
    if command.is(&["python", "python3", "python2"]) && prints("os.environ") {
        return Some("a Python one-liner prints `os.environ`");
    }
    if command.is(&["node", "nodejs", "deno", "bun"]) && prints("process.env") {
        return Some("a Node one-liner prints `process.env`");
    }
    if command.is(&["ruby"]) && prints("ENV") {
        return Some("a Ruby one-liner prints `ENV`");
    }
    if command.is(&["perl"]) && prints("%ENV") {
        return Some("a Perl one-liner prints `%ENV`");
    }
    None
}

/// Whether `text` uses `object` as a whole (not `object[...]`, `object.get(...)`, `object.X`).
fn whole_object(text: &str, object: &str) -> bool {
    text.match_indices(object).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + object.len()..].chars().next();
        let starts_word =
            !before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
        let whole =
            !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '[' || c == '.');
        starts_word && whole
    })
}

/// Reports each command that dumps the environment into the log.
pub fn check(cx: &Context<'_>, out: &mut Vec<Finding>) {
    for job in cx.all_jobs() {
        let commands: Vec<ScriptCommand<'_>> = cx.commands_of(job).collect();
        for (index, command) in commands.iter().enumerate() {
            let Some(kind) = dump_kind(&command.command) else {
                continue;
            };
            let downstream = pipe_stages_after(&commands, index);
            if command.command.redirected_to_file().is_some()
                || downstream.iter().any(|stage| keeps_values_out_of_log(cx, stage))
            {
                continue;
            }
            let program = command.command.program().unwrap_or_default();
            let message = format!("{}: `{program}` {kind} to the job log", job.title());
            let finding = cx.command_finding(&RULE, command, message);
            out.push(if command.command.piped() {
                finding.with_confidence(Confidence::Medium)
            } else {
                finding
            });
        }
    }
}

/// The commands that read the output of `commands[index]` through pipes.
fn pipe_stages_after<'c>(commands: &[ScriptCommand<'c>], index: usize) -> Vec<Command<'c>> {
    let mut stages = Vec::new();
    let mut piped = commands.get(index).is_some_and(|c| c.command.piped());
    for next in commands.get(index + 1..).unwrap_or_default() {
        if !piped {
            break;
        }
        stages.push(next.command);
        piped = next.command.piped();
    }
    stages
}

/// Whether a pipe stage keeps the dump's values out of the log: it writes to a file, selects
/// named variables that are not credentials (`grep NAME`, `sed -n 's/^PREFIX_//p'`), or keeps
/// the names only (`cut -d= -f1`).
fn keeps_values_out_of_log(cx: &Context<'_>, stage: &Command) -> bool {
    let args: Vec<&str> = stage.args().texts();
    let operands: Vec<&str> = args.iter().copied().filter(|a| !a.starts_with('-')).collect();
    let names_a_credential = |pattern: &str| {
        pattern
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .any(|word| word.len() > 2 && cx.is_credential(word))
    };
    if stage.redirected_to_file().is_some() {
        return true;
    }
    if stage.is(&["grep", "egrep", "fgrep"]) {
        let inverted = args.iter().any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('v'));
        return !inverted
            && operands.first().is_some_and(|pattern| {
                pattern.chars().any(|c| c.is_ascii_alphabetic()) && !names_a_credential(pattern)
            });
    }
    if stage.is(&["sed"]) {
        let quiet = args.iter().any(|a| *a == "-n" || *a == "--quiet" || *a == "--silent");
        return quiet && operands.first().is_some_and(|script| !names_a_credential(script));
    }
    if stage.is(&["cut"]) {
        let fields = args.iter().zip(args.iter().skip(1).chain([&""])).find_map(|(a, next)| {
            a.strip_prefix("--fields=")
                .or_else(|| a.strip_prefix("-f").map(|f| if f.is_empty() { *next } else { f }))
        });
        return fields == Some("1");
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lint::ci::shell::Commands;

    fn dumps(text: &str) -> bool {
        Commands::of(text).iter().any(|c| dump_kind(&c).is_some())
    }

    #[test]
    fn recognises_dumps() {
        for text in [
            "env",
            "printenv",
            "set",
            "export -p",
            "declare -x",
            "declare -p",
            "compgen -v",
            "cat /proc/self/environ",
            "python -c 'import os; print(os.environ)'",
            "node -e 'console.log(process.env)'",
            "ruby -e 'p ENV'",
            "env | sort",
        ] {
            assert!(dumps(text), "{text}");
        }
    }

    #[test]
    fn leaves_other_uses_alone() {
        for text in [
            "env FOO=1 make",
            "printenv HOME",
            "set -eux",
            "export FOO=bar",
            "declare -p PATH",
            "python -c 'import os; print(os.environ[\"HOME\"])'",
            "node -e 'console.log(process.env.HOME)'",
            "ruby -e 'puts ENV[\"HOME\"]'",
            "envsubst < a > b",
        ] {
            assert!(!dumps(text), "{text}");
        }
    }
}

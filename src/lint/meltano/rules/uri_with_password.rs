//! `meltano-uri-with-password`: any string in `meltano.yml` holding a URI with a password in
//! its userinfo (`postgresql://user:pw@host/db`, `git+https://user:token@host/repo`), unless the
//! password comes from a variable.

use super::{Context, has_reference, is_placeholder};
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::meltano::project::leaves;

/// The rule.
pub static RULE: Rule = Rule {
    points_at_value: true,
    id: "meltano-uri-with-password",
    severity: Severity::High,
    confidence: Confidence::High,
    summary: "A URI in meltano.yml has a password in it",
    why: "Meltano.yml is committed, and a URI is printed whole by tools and tracebacks (a DSN in \
          a connection error, a pip_url in an install log): the password travels with it",
    fix: "Rotate the password and take it out of the URI: reference a variable \
          (`postgresql://user:${DB_PASSWORD}@host/db`) set as a protected, masked CI/CD variable, \
          or use the plugin's separate password setting",
};

pub fn check(ctx: &Context<'_>, findings: &mut Vec<Finding>) {
    for leaf in leaves(ctx.project.root, "", "") {
        if leaf.node.as_string_scalar().is_some_and(has_password) {
            let message = format!("`{}` holds a URI with a password", leaf.logical);
            findings.push(ctx.finding(&RULE, leaf.node, &leaf.logical, message));
        }
    }
}

/// Whether `text` holds `scheme://user:password@` with a password in clear.
fn has_password(text: &str) -> bool {
    text.match_indices("://").any(|(at, _)| {
        let scheme_ok = text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_ascii_alphanumeric());
        let rest = &text[at + 3..];
        let authority = rest.split(char::is_whitespace).next().unwrap_or_default();
        let Some((userinfo, _host)) = authority.rsplit_once('@') else {
            return false;
        };
        let Some((user, password)) = userinfo.split_once(':') else {
            return false;
        };
        scheme_ok
            && !user.contains(['/', '@'])
            && !password.is_empty()
            && !has_reference(password)
            && !is_placeholder(password)
    })
}

#[cfg(test)]
mod tests {
    use super::has_password;
    use crate::lint::meltano::tests::fired;

    #[test]
    fn recognises_passwords_in_userinfo() {
        for text in [
            "postgresql://meltano:s3cr3t@db:5432/warehouse",
            "git+https://oauth2:glpat-abcdef@gitlab.example/acme/tap.git",
            "snowflake://u:p%40ss@acct/db?warehouse=w",
            "see mysql://root:hunter22@localhost/x for details",
        ] {
            assert!(has_password(text), "{text}");
        }
        for text in [
            "postgresql://meltano@db/warehouse",
            "postgresql://meltano:${PG_PASSWORD}@db/warehouse",
            "postgresql://${PG_USERNAME}:${PG_PASSWORD}@host:${PG_PORT}/db",
            "postgresql://user:password@localhost/db",
            "postgresql://user:<password>@localhost/db",
            "https://example.com/a:b@c",
            "https://example.com/path",
            "mailto:someone@example.com",
            "postgresql://meltano@db:5432/w?notify=a@b",
            "://:x@",
        ] {
            assert!(!has_password(text), "{text}");
        }
    }

    #[test]
    fn fires_anywhere_in_the_file() {
        let yaml = "\
plugins:
  extractors:
  - name: tap-x
    pip_url: git+https://bot:ghp_abc123def456@github.com/acme/tap-x.git
    config:
      sqlalchemy_url: postgresql://u:pw-1234@db/x
      other_url: postgresql://u:${PW}@db/x
";
        assert_eq!(
            fired(yaml, "meltano-uri-with-password"),
            [
                "4:plugins.extractors[tap-x].pip_url",
                "6:plugins.extractors[tap-x].config.sqlalchemy_url",
            ]
        );
    }
}

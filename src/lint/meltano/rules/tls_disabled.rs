//! `meltano-tls-disabled`: a plugin's configuration turns encryption or certificate checks off
//! (`sslmode: disable`, `ssl: false`, `verify_ssl: false`, `insecure: true`) or sends a credential
//! to a plain `http://` URL, so the credentials it connects with cross the network readable.

use super::{Context, has_reference};
use crate::credentials::LOCAL_HOSTS;
use crate::findings::{Confidence, Finding, Rule, Severity};
use crate::lint::meltano::project::leaves;

/// The rule.
pub static RULE: Rule = Rule {
    // A plain `http://` URL may carry its token in the query: the text report stars the value.
    points_at_value: true,
    id: "meltano-tls-disabled",
    severity: Severity::Medium,
    confidence: Confidence::Medium,
    summary: "A plugin's configuration in meltano.yml switches TLS or certificate checks off",
    why: "Without TLS the plugin's password or token crosses the network in clear, and without \
          certificate checks anyone on the path can pose as the server and receive it",
    fix: "Keep TLS on and certificates verified for every host outside the runner (`sslmode: \
          verify-full`, `ssl: true`, `verify_ssl: true`, an `https://` URL); if a development \
          database needs it off, set that in that environment's config only",
};

/// Keys whose `false` switches encryption off.
const ENCRYPTION_SWITCHES: &[&str] = &["ssl", "use_ssl", "tls", "use_tls", "ssl_enabled", "encrypt"];

/// Keys whose `false` switches certificate checks off.
const VERIFICATION_SWITCHES: &[&str] = &[
    "verify_ssl",
    "ssl_verify",
    "verify",
    "verify_tls",
    "tls_verify",
    "ssl_verify_cert",
    "validate_certs",
    "check_hostname",
];

/// Keys whose `true` switches certificate checks off.
const INSECURE_SWITCHES: &[&str] = &[
    "insecure",
    "ssl_insecure",
    "insecure_skip_verify",
    "skip_tls_verify",
    "disable_ssl_verification",
];

/// Environments where a local database without TLS is expected.
const LOCAL_ENVIRONMENTS: &[&str] = &["dev", "development", "local", "test", "testing", "ci"];


pub fn check(ctx: &Context<'_>, findings: &mut Vec<Finding>) {
    for block in &ctx.project.configs {
        if in_local_environment(&block.logical) {
            continue;
        }
        let local_host = leaves(block.node, "", "").iter().any(|leaf| {
            leaf.setting.rsplit('.').next().is_some_and(|k| k == "host")
                && leaf.node.as_str().is_some_and(|h| LOCAL_HOSTS.contains(&h))
        });
        for leaf in leaves(block.node, &block.logical, "") {
            let key = leaf.setting.rsplit('.').next().unwrap_or_default().to_ascii_lowercase();
            let value = leaf.node.as_str().unwrap_or_default().to_ascii_lowercase();
            let switched_off = if key == "sslmode" || key == "ssl_mode" {
                matches!(value.as_str(), "disable" | "allow").then_some("turns TLS off")
            } else if ENCRYPTION_SWITCHES.contains(&key.as_str()) && value == "false" {
                Some("turns TLS off")
            } else if VERIFICATION_SWITCHES.contains(&key.as_str()) && value == "false"
                || INSECURE_SWITCHES.contains(&key.as_str()) && value == "true"
            {
                Some("turns certificate checks off")
            } else if plain_http_with_credential(&value) {
                Some("sends a credential to a plain `http://` URL")
            } else {
                None
            };
            if let Some(what) = switched_off
                && !local_host
            {
                let message = format!("`{}` {what}", leaf.logical);
                findings.push(ctx.finding(&RULE, leaf.node, &leaf.logical, message));
            }
        }
    }
}

/// Whether a config block is an environment's that runs against local services.
fn in_local_environment(logical: &str) -> bool {
    logical
        .strip_prefix("environments[")
        .and_then(|rest| rest.split_once(']'))
        .is_some_and(|(name, _)| LOCAL_ENVIRONMENTS.contains(&name.to_ascii_lowercase().as_str()))
}

/// Whether `url` is `http://` to a host outside the runner with a password or token in it.
fn plain_http_with_credential(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, host) = authority.rsplit_once('@').unwrap_or(("", authority));
    let host = host.split(':').next().unwrap_or(host);
    let password = userinfo.split_once(':').is_some_and(|(_, p)| !p.is_empty());
    let query = rest.split_once('?').map_or("", |(_, q)| q);
    let token = query.split('&').any(|pair| {
        let key = pair.split('=').next().unwrap_or_default();
        ["token", "access_token", "api_key", "apikey", "password", "key", "secret"].contains(&key)
    });
    (password || token) && !LOCAL_HOSTS.contains(&host) && !has_reference(host)
}

#[cfg(test)]
mod tests {
    use super::plain_http_with_credential;
    use crate::lint::meltano::tests::fired;

    #[test]
    fn plain_http_only_with_a_credential_and_a_remote_host() {
        assert!(plain_http_with_credential("http://u:pw@api.example.com/v1"));
        assert!(plain_http_with_credential("http://api.example.com/v1?api_key=${KEY}"));
        assert!(!plain_http_with_credential("http://api.example.com/v1"));
        assert!(!plain_http_with_credential("https://u:pw@api.example.com/v1"));
        assert!(!plain_http_with_credential("http://u:pw@localhost:8088/"));
    }

    #[test]
    fn fires_on_switches_outside_local_environments() {
        let yaml = "\
plugins:
  extractors:
  - name: tap-postgres
    config:
      host: db.example.com
      sslmode: disable
      password: ${TAP_POSTGRES_PASSWORD}
  - name: tap-rest
    config:
      api_url: http://api.example.com/v1?token=${API_TOKEN}
      verify_ssl: false
  loaders:
  - name: target-snowflake
    config:
      ssl: true
environments:
- name: dev
  config:
    plugins:
      extractors:
      - name: tap-postgres
        config:
          sslmode: disable
- name: prod
  config:
    plugins:
      loaders:
      - name: target-postgres
        config:
          host: localhost
          sslmode: disable
";
        assert_eq!(
            fired(yaml, "meltano-tls-disabled"),
            [
                "6:plugins.extractors[tap-postgres].config.sslmode",
                "10:plugins.extractors[tap-rest].config.api_url",
                "11:plugins.extractors[tap-rest].config.verify_ssl",
            ]
        );
    }
}

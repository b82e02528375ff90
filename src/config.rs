//! The one typed configuration: `GRADHUB_*` environment variables over an optional TOML file
//! (`GRADHUB_CONFIG`), over documented defaults. `docs/operations.md` lists every key.

use crate::notify::MailConfig;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// A setting that may hold a password (the SMTP password, a `postgres://user:pw@host/db` URL).
/// Its `Debug` prints `[redacted]`, so a `{:?}` of the configuration in a log line or a panic
/// message cannot leak it; the value itself is read only through [`Secret::expose`]. It reads
/// from TOML and the environment as a plain string, and is wiped from memory when dropped.
#[derive(Clone, Default, Deserialize)]
#[serde(from = "String")]
pub struct Secret(SecretString);

impl Secret {
    /// The value, for the one place that needs it (a connection, an SMTP login).
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

// Settings are compared in tests (a file read back equals the defaults); secrets are not hashed
// or compared anywhere an attacker could time it.
impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose() == other.expose()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(SecretString::from(value))
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(SecretString::from(value))
    }
}

/// Every setting of the hub. Field docs are the documentation of the keys.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `database_url` / `GRADHUB_DATABASE_URL` (or `DATABASE_URL`): a SQLite file path
    /// (`gradhub.db`, optionally `sqlite://gradhub.db`) or `postgres://user@host/db`. A secret,
    /// since a PostgreSQL URL may carry a password.
    pub database_url: Secret,
    /// `bind` / `GRADHUB_BIND`: address the web server listens on.
    pub bind: String,
    /// `pool_size` / `GRADHUB_POOL_SIZE`: database connections (SQLite is capped at 8).
    pub pool_size: u32,
    /// `sqlite_busy_timeout_ms` / `GRADHUB_SQLITE_BUSY_TIMEOUT_MS`: how long a SQLite writer waits
    /// for another to finish.
    pub sqlite_busy_timeout_ms: u64,
    /// `upload_dir` / `GRADHUB_UPLOAD_DIR`: where uploads are streamed before ingest.
    pub upload_dir: PathBuf,
    /// `max_upload_bytes` / `GRADHUB_MAX_UPLOAD_BYTES`: larger uploads are refused.
    pub max_upload_bytes: u64,
    /// `body_timeout_secs` / `GRADHUB_BODY_TIMEOUT_SECS`: a request's head, and the first bytes of
    /// its body, must arrive within this many seconds (`408` otherwise).
    pub body_timeout_secs: u64,
    /// `min_body_bytes_per_sec` / `GRADHUB_MIN_BODY_BYTES_PER_SEC`: after that grace a body must
    /// keep arriving at this average rate (`408 BODY_TIMEOUT` otherwise).
    pub min_body_bytes_per_sec: u64,
    /// `log_format` / `GRADHUB_LOG_FORMAT`: `human` or `json`.
    pub log_format: String,
    /// `log` / `GRADHUB_LOG`: tracing filter, e.g. `info` or `gradhub=debug`.
    pub log: String,
    /// `ack_deadline_days` / `GRADHUB_ACK_DEADLINE_DAYS`: working days a receiver has to
    /// acknowledge a package before it is overdue and its contacts are reminded.
    pub ack_deadline_days: u32,
    /// `escalation_deadline_days` / `GRADHUB_ESCALATION_DEADLINE_DAYS`: working days after
    /// delivery when an unacknowledged package is reported to the receiver's parent organisation.
    pub escalation_deadline_days: u32,
    /// `contact_deadline_days` / `GRADHUB_CONTACT_DEADLINE_DAYS`: working days after a record
    /// reaches its county (or grassroots office) within which the graduate is first contacted
    /// (111号 逐一联系; default 10).
    pub contact_deadline_days: u32,
    /// `followup_codes_dir` / `GRADHUB_FOLLOWUP_CODES_DIR`: a folder whose `service_type.csv`,
    /// `policy_type.csv`, `employment_state.csv` or `contact_channel.csv` replace the built-in
    /// follow-up code tables at start; empty keeps the built-in ones.
    pub followup_codes_dir: String,
    /// `session_idle_minutes` / `GRADHUB_SESSION_IDLE_MINUTES`: a sign-in session unused this
    /// long ends (default 30).
    pub session_idle_minutes: u32,
    /// `session_hours` / `GRADHUB_SESSION_HOURS`: a sign-in session ends this long after it
    /// opened, however busy (default 12).
    pub session_hours: u32,
    /// `cookie_secure` / `GRADHUB_COOKIE_SECURE`: mark the session cookie `Secure` (set it when
    /// the pages are served over TLS, by the hub or a reverse proxy in front of it).
    pub cookie_secure: bool,
    /// `self_registrations_per_hour` / `GRADHUB_SELF_REGISTRATIONS_PER_HOUR`: how many public
    /// self-registrations one address may send an hour (default 10).
    pub self_registrations_per_hour: u32,
    /// `progress_queries_per_hour` / `GRADHUB_PROGRESS_QUERIES_PER_HOUR`: how many public
    /// progress queries and unemployment applications one address may send an hour, and how
    /// many queries one application number may take (default 20).
    pub progress_queries_per_hour: u32,
    /// `unemployment_review_overrides` / `GRADHUB_UNEMPLOYMENT_REVIEW_OVERRIDES`: per-province
    /// review deadlines in working days replacing the defaults (target 3 by 79号, limit 10 by
    /// LD/T 6009-2024, 甘肃 and 黑龙江 limit 7), as `province:target:limit` separated by commas,
    /// e.g. `440000:3:5,510000:2:7`.
    pub unemployment_review_overrides: String,
    /// `auto_cut` / `GRADHUB_AUTO_CUT`: which holders have their waiting records cut into packages
    /// by the background job: `ministry` (the hub, after every batch), `all`, or `none`.
    pub auto_cut: String,
    /// `drop_dir` / `GRADHUB_DROP_DIR`: the drop folder (one sub-folder per sender organisation
    /// code); empty turns it off.
    pub drop_dir: String,
    /// `drop_settle_secs` / `GRADHUB_DROP_SETTLE_SECS`: a dropped file is taken once its size and
    /// time have not changed for this long (so files still being copied are left alone).
    pub drop_settle_secs: u64,
    /// `jobs_interval_secs` / `GRADHUB_JOBS_INTERVAL_SECS`: how often the background jobs look for
    /// work; 0 turns the jobs off in this process.
    pub jobs_interval_secs: u64,
    /// `node_name` / `GRADHUB_NODE_NAME`: this process's name in job claims (default host-pid).
    pub node_name: String,
    /// `hub_url` / `GRADHUB_HUB_URL`: the address staff open, quoted in e-mails.
    pub hub_url: String,
    /// `[mail]`: SMTP settings (`GRADHUB_SMTP_HOST`, `GRADHUB_SMTP_PORT`,
    /// `GRADHUB_SMTP_SECURITY`, `GRADHUB_SMTP_USERNAME`, `GRADHUB_SMTP_PASSWORD`,
    /// `GRADHUB_MAIL_FROM`, `GRADHUB_SMTP_TIMEOUT_SECS`, `GRADHUB_MAIL_RETRY_SECS`).
    pub mail: MailConfig,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "gradhub.db".into(),
            bind: "127.0.0.1:8080".into(),
            pool_size: 16,
            sqlite_busy_timeout_ms: 60_000,
            upload_dir: std::env::temp_dir().join("gradhub-uploads"),
            max_upload_bytes: 1 << 30,
            body_timeout_secs: 10,
            min_body_bytes_per_sec: 16 << 10,
            log_format: "human".into(),
            log: "info".into(),
            ack_deadline_days: 5,
            escalation_deadline_days: 10,
            contact_deadline_days: 10,
            followup_codes_dir: String::new(),
            session_idle_minutes: 30,
            session_hours: 12,
            cookie_secure: false,
            self_registrations_per_hour: 10,
            progress_queries_per_hour: 20,
            unemployment_review_overrides: String::new(),
            auto_cut: "ministry".into(),
            drop_dir: String::new(),
            drop_settle_secs: 10,
            jobs_interval_secs: 5,
            node_name: String::new(),
            hub_url: "http://127.0.0.1:8080".into(),
            mail: MailConfig::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the configuration file {0}: {1}")]
    Read(PathBuf, std::io::Error),
    #[error("the configuration file {0} is not valid: {1}")]
    Parse(PathBuf, String),
    #[error("environment variable {0} is not valid: {1:?}")]
    Env(&'static str, String),
    #[error("setting {0} is not valid: {1}")]
    Invalid(&'static str, String),
}

impl Config {
    /// `unemployment_review_overrides` read: `(province code, target, limit)` each.
    pub fn review_overrides(&self) -> Result<Vec<(String, u32, u32)>, ConfigError> {
        let mut out = Vec::new();
        for part in self
            .unemployment_review_overrides
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let bad = || {
                ConfigError::Invalid(
                    "unemployment_review_overrides",
                    format!(
                        "{part:?} (province:target:limit, e.g. 440000:3:5, target ≤ limit ≤ 30)"
                    ),
                )
            };
            let mut it = part.split(':');
            let (Some(p), Some(t), Some(l), None) = (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(bad());
            };
            let (t, l) = (
                t.parse::<u32>().map_err(|_| bad())?,
                l.parse::<u32>().map_err(|_| bad())?,
            );
            if p.len() != 6
                || !p.ends_with("0000")
                || !p.bytes().all(|b| b.is_ascii_digit())
                || t == 0
                || t > l
                || l > 30
            {
                return Err(bad());
            }
            out.push((p.to_string(), t, l));
        }
        Ok(out)
    }

    /// Defaults, then the file named by `GRADHUB_CONFIG` (if any), then the environment.
    pub fn load() -> Result<Config, ConfigError> {
        let mut config = match std::env::var_os("GRADHUB_CONFIG") {
            Some(path) => Config::from_file(PathBuf::from(path))?,
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
        config.validate()?;
        Ok(config)
    }

    pub fn from_file(path: PathBuf) -> Result<Config, ConfigError> {
        let text =
            std::fs::read_to_string(&path).map_err(|e| ConfigError::Read(path.clone(), e))?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse(path, e.to_string()))
    }

    /// Overrides from environment variables (`get` is the lookup, so tests need no real env).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        if let Some(v) = get("GRADHUB_DATABASE_URL").or_else(|| get("DATABASE_URL")) {
            self.database_url = v.into();
        }
        if let Some(v) = get("GRADHUB_BIND") {
            self.bind = v;
        }
        if let Some(v) = get("GRADHUB_POOL_SIZE") {
            self.pool_size = v
                .parse()
                .map_err(|_| ConfigError::Env("GRADHUB_POOL_SIZE", v))?;
        }
        if let Some(v) = get("GRADHUB_SQLITE_BUSY_TIMEOUT_MS") {
            self.sqlite_busy_timeout_ms = v
                .parse()
                .map_err(|_| ConfigError::Env("GRADHUB_SQLITE_BUSY_TIMEOUT_MS", v))?;
        }
        if let Some(v) = get("GRADHUB_UPLOAD_DIR") {
            self.upload_dir = PathBuf::from(v);
        }
        if let Some(v) = get("GRADHUB_MAX_UPLOAD_BYTES") {
            self.max_upload_bytes = v
                .parse()
                .map_err(|_| ConfigError::Env("GRADHUB_MAX_UPLOAD_BYTES", v))?;
        }
        if let Some(v) = get("GRADHUB_LOG_FORMAT") {
            self.log_format = v;
        }
        if let Some(v) = get("GRADHUB_LOG") {
            self.log = v;
        }
        let number = |key: &'static str| -> Result<Option<u64>, ConfigError> {
            get(key)
                .map(|v| v.parse::<u64>().map_err(|_| ConfigError::Env(key, v)))
                .transpose()
        };
        let days = |key: &'static str| -> Result<Option<u32>, ConfigError> {
            number(key)?
                .map(|n| u32::try_from(n).map_err(|_| ConfigError::Env(key, n.to_string())))
                .transpose()
        };
        if let Some(n) = number("GRADHUB_BODY_TIMEOUT_SECS")? {
            self.body_timeout_secs = n;
        }
        if let Some(n) = number("GRADHUB_MIN_BODY_BYTES_PER_SEC")? {
            self.min_body_bytes_per_sec = n;
        }
        if let Some(n) = days("GRADHUB_ACK_DEADLINE_DAYS")? {
            self.ack_deadline_days = n;
        }
        if let Some(n) = days("GRADHUB_ESCALATION_DEADLINE_DAYS")? {
            self.escalation_deadline_days = n;
        }
        if let Some(n) = days("GRADHUB_CONTACT_DEADLINE_DAYS")? {
            self.contact_deadline_days = n;
        }
        if let Some(n) = days("GRADHUB_SESSION_IDLE_MINUTES")? {
            self.session_idle_minutes = n;
        }
        if let Some(n) = days("GRADHUB_SESSION_HOURS")? {
            self.session_hours = n;
        }
        if let Some(n) = days("GRADHUB_SELF_REGISTRATIONS_PER_HOUR")? {
            self.self_registrations_per_hour = n;
        }
        if let Some(n) = days("GRADHUB_PROGRESS_QUERIES_PER_HOUR")? {
            self.progress_queries_per_hour = n;
        }
        if let Some(v) = get("GRADHUB_UNEMPLOYMENT_REVIEW_OVERRIDES") {
            self.unemployment_review_overrides = v;
        }
        if let Some(v) = get("GRADHUB_COOKIE_SECURE") {
            self.cookie_secure = match v.as_str() {
                "1" | "true" | "yes" => true,
                "0" | "false" | "no" | "" => false,
                _ => return Err(ConfigError::Env("GRADHUB_COOKIE_SECURE", v)),
            };
        }
        if let Some(v) = get("GRADHUB_FOLLOWUP_CODES_DIR") {
            self.followup_codes_dir = v;
        }
        if let Some(v) = get("GRADHUB_AUTO_CUT") {
            self.auto_cut = v;
        }
        if let Some(v) = get("GRADHUB_DROP_DIR") {
            self.drop_dir = v;
        }
        if let Some(n) = number("GRADHUB_DROP_SETTLE_SECS")? {
            self.drop_settle_secs = n;
        }
        if let Some(n) = number("GRADHUB_JOBS_INTERVAL_SECS")? {
            self.jobs_interval_secs = n;
        }
        if let Some(v) = get("GRADHUB_NODE_NAME") {
            self.node_name = v;
        }
        if let Some(v) = get("GRADHUB_HUB_URL") {
            self.hub_url = v;
        }
        if let Some(v) = get("GRADHUB_SMTP_HOST") {
            self.mail.smtp_host = v;
        }
        if let Some(n) = number("GRADHUB_SMTP_PORT")? {
            self.mail.smtp_port = u16::try_from(n)
                .map_err(|_| ConfigError::Env("GRADHUB_SMTP_PORT", n.to_string()))?;
        }
        if let Some(v) = get("GRADHUB_SMTP_SECURITY") {
            self.mail.smtp_security = v;
        }
        if let Some(v) = get("GRADHUB_SMTP_USERNAME") {
            self.mail.smtp_username = v;
        }
        if let Some(v) = get("GRADHUB_SMTP_PASSWORD") {
            self.mail.smtp_password = v.into();
        }
        if let Some(v) = get("GRADHUB_MAIL_FROM") {
            self.mail.mail_from = v;
        }
        if let Some(n) = number("GRADHUB_SMTP_TIMEOUT_SECS")? {
            self.mail.smtp_timeout_secs = n;
        }
        if let Some(n) = number("GRADHUB_MAIL_RETRY_SECS")? {
            self.mail.retry_secs = n;
        }
        Ok(())
    }

    /// Checks values wherever they came from (file or environment).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if !matches!(self.log_format.as_str(), "human" | "json") {
            return Err(ConfigError::Invalid(
                "log_format",
                format!("{:?} (human or json)", self.log_format),
            ));
        }
        if !matches!(self.auto_cut.as_str(), "ministry" | "all" | "none") {
            return Err(ConfigError::Invalid(
                "auto_cut",
                format!("{:?} (ministry, all or none)", self.auto_cut),
            ));
        }
        for (key, days) in [
            ("ack_deadline_days", self.ack_deadline_days),
            ("escalation_deadline_days", self.escalation_deadline_days),
            ("contact_deadline_days", self.contact_deadline_days),
        ] {
            if !(1..=365).contains(&days) {
                return Err(ConfigError::Invalid(
                    key,
                    format!("{days} (1 to 365 working days)"),
                ));
            }
        }
        if !(1..=24 * 60).contains(&self.session_idle_minutes)
            || !(1..=72).contains(&self.session_hours)
        {
            return Err(ConfigError::Invalid(
                "session_idle_minutes",
                "session_idle_minutes must be 1 to 1440 and session_hours 1 to 72".into(),
            ));
        }
        if self.progress_queries_per_hour == 0 {
            return Err(ConfigError::Invalid(
                "progress_queries_per_hour",
                "at least 1".into(),
            ));
        }
        self.review_overrides()?;
        if self.self_registrations_per_hour == 0 {
            return Err(ConfigError::Invalid(
                "self_registrations_per_hour",
                "at least 1".into(),
            ));
        }
        if self.body_timeout_secs == 0 || self.min_body_bytes_per_sec == 0 {
            return Err(ConfigError::Invalid(
                "body_timeout_secs",
                "body_timeout_secs and min_body_bytes_per_sec must be at least 1".into(),
            ));
        }
        if self.escalation_deadline_days < self.ack_deadline_days {
            return Err(ConfigError::Invalid(
                "escalation_deadline_days",
                "must not be shorter than ack_deadline_days".into(),
            ));
        }
        Ok(())
    }

    /// This process's name in job claims.
    pub fn node(&self) -> String {
        if self.node_name.is_empty() {
            let host = std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "node".into());
            format!("{host}-{}", std::process::id())
        } else {
            self.node_name.clone()
        }
    }

    pub fn busy_timeout(&self) -> Duration {
        Duration::from_millis(self.sqlite_busy_timeout_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_overrides_defaults() {
        let mut c = Config::default();
        c.apply_env(|k| match k {
            "DATABASE_URL" => Some("postgres://x@localhost/db".into()),
            "GRADHUB_POOL_SIZE" => Some("4".into()),
            _ => None,
        })
        .expect("valid");
        assert_eq!(c.database_url.expose(), "postgres://x@localhost/db");
        assert_eq!(c.pool_size, 4);
    }

    #[test]
    fn values_from_a_file_are_checked_too() {
        let bad = Config {
            auto_cut: "sometimes".into(),
            ..Config::default()
        };
        assert!(bad
            .validate()
            .expect_err("invalid")
            .to_string()
            .contains("auto_cut"));
        let short = Config {
            escalation_deadline_days: 2,
            ..Config::default()
        };
        assert!(short.validate().is_err());
        assert!(Config::default().validate().is_ok());
    }

    #[test]
    fn debug_output_shows_no_password() {
        // The configuration is printed with `{:?}` in logs and panics: neither the SMTP password
        // nor the password inside a PostgreSQL URL may appear, from the environment or a file.
        let mut from_env = Config::default();
        from_env
            .apply_env(|k| match k {
                "GRADHUB_DATABASE_URL" => {
                    Some("postgres://hub:pg-Pa55word@db.example/gradhub".into())
                }
                "GRADHUB_SMTP_PASSWORD" => Some("smtp-Pa55word".into()),
                _ => None,
            })
            .expect("valid");
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("gradhub.toml");
        std::fs::write(
            &file,
            "database_url = \"postgres://hub:pg-Pa55word@db.example/gradhub\"\n\
             [mail]\nsmtp_password = \"smtp-Pa55word\"\n",
        )
        .expect("write");
        let from_file = Config::from_file(file).expect("parses");
        assert_eq!(from_file, from_env);
        for config in [from_env, from_file] {
            let printed = format!("{config:?} {config:#?}");
            assert!(!printed.contains("Pa55word"), "{printed}");
            assert!(printed.contains("[redacted]"), "{printed}");
            assert_eq!(config.mail.smtp_password.expose(), "smtp-Pa55word");
            assert_eq!(
                config.database_url.expose(),
                "postgres://hub:pg-Pa55word@db.example/gradhub"
            );
        }
    }

    #[test]
    fn bad_number_names_the_variable() {
        let mut c = Config::default();
        let err = c
            .apply_env(|k| (k == "GRADHUB_POOL_SIZE").then(|| "many".into()))
            .expect_err("must fail");
        assert!(err.to_string().contains("GRADHUB_POOL_SIZE"));
    }

    #[test]
    fn sample_config_file_is_current() {
        // docs/gradhub.example.toml must parse and name every key, so it cannot go stale.
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/gradhub.example.toml");
        let sample = Config::from_file(path).expect("sample parses");
        let text = std::fs::read_to_string(
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/gradhub.example.toml"),
        )
        .expect("readable");
        for key in [
            "database_url",
            "bind",
            "pool_size",
            "sqlite_busy_timeout_ms",
            "upload_dir",
            "max_upload_bytes",
            "body_timeout_secs",
            "min_body_bytes_per_sec",
            "log_format",
            "log",
            "ack_deadline_days",
            "escalation_deadline_days",
            "contact_deadline_days",
            "followup_codes_dir",
            "session_idle_minutes",
            "session_hours",
            "cookie_secure",
            "self_registrations_per_hour",
            "progress_queries_per_hour",
            "unemployment_review_overrides",
            "auto_cut",
            "drop_dir",
            "drop_settle_secs",
            "jobs_interval_secs",
            "node_name",
            "hub_url",
            "smtp_host",
            "smtp_port",
            "smtp_security",
            "smtp_username",
            "smtp_password",
            "mail_from",
            "smtp_timeout_secs",
            "retry_secs",
        ] {
            assert!(
                text.contains(&format!("{key} =")),
                "{key} missing from sample"
            );
        }
        assert_eq!(sample.bind, Config::default().bind);
    }
}

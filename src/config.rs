//! The one typed configuration: `GRADHUB_*` environment variables over an optional TOML file
//! (`GRADHUB_CONFIG`), over documented defaults. `docs/operations.md` lists every key.

use serde::Deserialize;
use std::path::PathBuf;
use std::time::Duration;

/// Every setting of the hub. Field docs are the documentation of the keys.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `database_url` / `GRADHUB_DATABASE_URL` (or `DATABASE_URL`): a SQLite file path
    /// (`gradhub.db`, optionally `sqlite://gradhub.db`) or `postgres://user@host/db`.
    pub database_url: String,
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
    /// `log_format` / `GRADHUB_LOG_FORMAT`: `human` or `json`.
    pub log_format: String,
    /// `log` / `GRADHUB_LOG`: tracing filter, e.g. `info` or `gradhub=debug`.
    pub log: String,
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
            log_format: "human".into(),
            log: "info".into(),
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
}

impl Config {
    /// Defaults, then the file named by `GRADHUB_CONFIG` (if any), then the environment.
    pub fn load() -> Result<Config, ConfigError> {
        let mut config = match std::env::var_os("GRADHUB_CONFIG") {
            Some(path) => Config::from_file(PathBuf::from(path))?,
            None => Config::default(),
        };
        config.apply_env(|k| std::env::var(k).ok())?;
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
            self.database_url = v;
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
            if v != "human" && v != "json" {
                return Err(ConfigError::Env("GRADHUB_LOG_FORMAT", v));
            }
            self.log_format = v;
        }
        if let Some(v) = get("GRADHUB_LOG") {
            self.log = v;
        }
        Ok(())
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
        assert_eq!(c.database_url, "postgres://x@localhost/db");
        assert_eq!(c.pool_size, 4);
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
            "log_format",
            "log",
        ] {
            assert!(
                text.contains(&format!("{key} =")),
                "{key} missing from sample"
            );
        }
        assert_eq!(sample.bind, Config::default().bind);
    }
}

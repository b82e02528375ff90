//! The SMTP mailer: a blocking lettre transport built once from `MailConfig`, one connection per mail.

use std::fmt;
use std::time::Duration;

use lettre::message::header::{ContentType, To};
use lettre::message::{Mailbox, Mailboxes};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::Address;
use lettre::{Message, SmtpTransport, Transport};

/// The `[mail]` settings. Every field has a default so a config file names only what it changes.
#[derive(Clone, Debug, serde::Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct MailConfig {
    /// Empty disables sending: messages stay in the outbox.
    pub smtp_host: String,
    pub smtp_port: u16,
    /// `none`, `starttls` or `tls` (TLS from the first byte, usually port 465).
    pub smtp_security: String,
    /// Empty means the server is used without AUTH.
    pub smtp_username: String,
    pub smtp_password: crate::config::Secret,
    /// A mailbox, with or without a display name: `gradhub <gradhub@example.org>`.
    pub mail_from: String,
    pub smtp_timeout_secs: u64,
    /// Seconds before a message that failed is tried again; doubles each time, up to an hour.
    pub retry_secs: u64,
}

impl Default for MailConfig {
    fn default() -> Self {
        MailConfig {
            smtp_host: String::new(),
            smtp_port: 25,
            smtp_security: "none".to_string(),
            smtp_username: String::new(),
            smtp_password: Default::default(),
            mail_from: "gradhub <gradhub@localhost>".to_string(),
            smtp_timeout_secs: 10,
            retry_secs: 30,
        }
    }
}

/// One plain-text mail. `to` may list several addresses separated by commas.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutgoingMail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error("invalid mail configuration: {0}")]
    Config(String),
    /// The address cannot be used at all: sending it again can never succeed.
    #[error("invalid e-mail address: {0}")]
    Address(String),
    /// The server refused this message for good (a 5xx reply, e.g. 550 no such mailbox).
    #[error("refused by the mail server: {0}")]
    Rejected(String),
    /// The server refused this message for now (a 4xx reply): try it again later.
    #[error("deferred by the mail server: {0}")]
    Deferred(String),
    /// The server could not be reached or used (connection, TLS, authentication, timeout): the
    /// messages after this one would fare no better.
    #[error("could not send mail: {0}")]
    Send(String),
}

impl MailError {
    /// Whether the message can never be sent as it is: it is marked failed, not retried.
    pub fn is_permanent(&self) -> bool {
        matches!(self, MailError::Address(_) | MailError::Rejected(_))
    }

    /// Whether the fault is the server's (or the connection's), not this message's.
    pub fn is_server_fault(&self) -> bool {
        matches!(self, MailError::Send(_) | MailError::Config(_))
    }
}

/// Checks one recipient address the way the mailer will use it: the `validator` crate's rule
/// (HTML5 / RFC 5322 with IDN domains) and lettre's own parse must both accept it, so that an
/// address stored as a contact is one `Mailer::send` can address. Returns the parsed address, or
/// the reason in Chinese and English.
pub fn check_recipient(address: &str) -> Result<Address, String> {
    use validator::ValidateEmail;
    let refuse = |why_zh: &str, why_en: &str| {
        Err(format!(
            "电子邮件地址“{address}”无效：{why_zh} / not a usable e-mail address {address:?}: {why_en}"
        ))
    };
    if address.is_empty() {
        return refuse("地址为空", "the address is empty");
    }
    if address.trim() != address || address.chars().any(char::is_whitespace) {
        return refuse("含有空白字符", "it contains white space");
    }
    // A comma would make it a list of recipients, not one contact.
    if address.contains([',', ';', '<', '>']) {
        return refuse(
            "只能填写一个地址，不能含逗号、分号或尖括号",
            "one address only, without commas, semicolons or angle brackets",
        );
    }
    if !address.validate_email() {
        return refuse(
            "格式不符合电子邮件地址规则",
            "it is not a valid e-mail address",
        );
    }
    let parsed: Address = match address.parse() {
        Ok(a) => a,
        Err(e) => {
            return refuse(
                "邮件发送程序无法解析该地址",
                &format!("the mailer cannot parse it ({e})"),
            )
        }
    };
    // What `send` parses: the list form must come back as this one address, unchanged.
    match address.parse::<Mailboxes>() {
        Ok(list) if list.iter().count() == 1 && list.iter().all(|m| m.email == parsed) => {
            Ok(parsed)
        }
        _ => refuse(
            "邮件发送程序无法把它作为收件人",
            "the mailer cannot use it as a recipient",
        ),
    }
}

/// Sends mail through one SMTP server.
///
/// Built without lettre's connection pool: every `send` opens its own connection, so a server
/// that went away and came back is simply used again, and nothing is left half-open between
/// the rare reminder runs.
#[derive(Clone)]
pub struct Mailer {
    transport: SmtpTransport,
    from: Mailbox,
    server: String,
}

impl fmt::Debug for Mailer {
    // By hand, so the credentials inside the transport can never end up in a log line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer")
            .field("server", &self.server)
            .field("from", &self.from.to_string())
            .finish()
    }
}

impl Mailer {
    /// The mailer for `config`, or `None` when no SMTP host is configured.
    pub fn new(config: &MailConfig) -> Result<Option<Mailer>, MailError> {
        let host = config.smtp_host.trim();
        if host.is_empty() {
            return Ok(None);
        }
        if config.smtp_port == 0 {
            return Err(MailError::Config("smtp_port must not be 0".to_string()));
        }
        // A zero timeout would make every socket call fail, which reads like a dead server.
        if config.smtp_timeout_secs == 0 {
            return Err(MailError::Config(
                "smtp_timeout_secs must be at least 1".to_string(),
            ));
        }
        let from: Mailbox =
            config.mail_from.trim().parse().map_err(|e| {
                MailError::Address(format!("mail_from `{}`: {e}", config.mail_from))
            })?;

        let tls_parameters = || {
            TlsParameters::new(host.to_string())
                .map_err(|e| MailError::Config(format!("TLS for `{host}`: {e}")))
        };
        let tls = match config.smtp_security.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Tls::None,
            // Required, not opportunistic: a stripped STARTTLS must not silently send in clear.
            "starttls" => Tls::Required(tls_parameters()?),
            "tls" => Tls::Wrapper(tls_parameters()?),
            other => {
                return Err(MailError::Config(format!(
                    "smtp_security `{other}` is not one of none, starttls, tls"
                )))
            }
        };

        let mut builder = SmtpTransport::builder_dangerous(host)
            .port(config.smtp_port)
            .tls(tls)
            .timeout(Some(Duration::from_secs(config.smtp_timeout_secs)));
        if !config.smtp_username.is_empty() {
            builder = builder.credentials(Credentials::new(
                config.smtp_username.clone(),
                config.smtp_password.expose().to_string(),
            ));
        }
        Ok(Some(Mailer {
            transport: builder.build(),
            from,
            server: format!("{host}:{}", config.smtp_port),
        }))
    }

    /// Sends `mail` as UTF-8 plain text; lettre picks the transfer encoding and encodes a
    /// non-ASCII subject as RFC 2047 words.
    pub fn send(&self, mail: &OutgoingMail) -> Result<(), MailError> {
        // Each recipient passes the same check as a contact does when it is added.
        let mut to = Mailboxes::new();
        for part in mail.to.split(',').map(str::trim) {
            let address = check_recipient(part).map_err(MailError::Address)?;
            to.push(Mailbox::new(None, address));
        }
        if to.iter().next().is_none() {
            return Err(MailError::Address("no recipient".to_string()));
        }
        // A line break in a header would end it early; subjects are one line by nature.
        let subject: String = mail
            .subject
            .chars()
            .map(|c| if c == '\r' || c == '\n' { ' ' } else { c })
            .collect();
        let message = Message::builder()
            .from(self.from.clone())
            .mailbox(To::from(to))
            .subject(subject)
            // Not added by lettre on its own, and mail without one scores as spam.
            .message_id(None)
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body.clone())
            .map_err(|e| MailError::Address(format!("recipient `{}`: {e}", mail.to)))?;
        self.transport
            .send(&message)
            .map(|_| ())
            .map_err(|e| classify(&e, &self.server))
    }
}

/// Sorts an SMTP failure into what it means for the queue.
fn classify(e: &lettre::transport::smtp::Error, server: &str) -> MailError {
    let text = format!("via {server}: {e}");
    match e.status().map(u16::from) {
        // Authentication and "service not available" replies are about the server and this
        // hub's account there: every message would get them, so none is marked failed for it.
        Some(421 | 454 | 530 | 534 | 535 | 538) => MailError::Send(text),
        Some(_) if e.is_permanent() => MailError::Rejected(text),
        Some(_) if e.is_transient() => MailError::Deferred(text),
        _ => MailError::Send(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host: &str) -> MailConfig {
        MailConfig {
            smtp_host: host.to_string(),
            ..MailConfig::default()
        }
    }

    #[test]
    fn defaults_fill_missing_fields() {
        let parsed: MailConfig = toml::from_str("smtp_host = \"mail.example.org\"").unwrap();
        assert_eq!(parsed, config("mail.example.org"));
        assert_eq!(parsed.smtp_port, 25);
        assert_eq!(parsed.smtp_security, "none");
        assert_eq!(parsed.smtp_timeout_secs, 10);
        assert_eq!(parsed.mail_from, "gradhub <gradhub@localhost>");
    }

    #[test]
    fn unknown_field_is_rejected() {
        assert!(toml::from_str::<MailConfig>("smtp_hots = \"x\"").is_err());
    }

    #[test]
    fn empty_host_disables_mail() {
        assert!(Mailer::new(&config("")).unwrap().is_none());
        assert!(Mailer::new(&config("  ")).unwrap().is_none());
    }

    #[test]
    fn default_sender_is_accepted() {
        assert!(Mailer::new(&config("localhost")).unwrap().is_some());
    }

    #[test]
    fn tls_modes_build() {
        for security in ["none", "starttls", "tls", "STARTTLS"] {
            let c = MailConfig {
                smtp_security: security.to_string(),
                ..config("mail.example.org")
            };
            assert!(Mailer::new(&c).unwrap().is_some(), "{security}");
        }
    }

    #[test]
    fn bad_settings_are_config_errors() {
        let bad_security = MailConfig {
            smtp_security: "ssl".to_string(),
            ..config("localhost")
        };
        assert!(matches!(
            Mailer::new(&bad_security),
            Err(MailError::Config(_))
        ));
        let zero_timeout = MailConfig {
            smtp_timeout_secs: 0,
            ..config("localhost")
        };
        assert!(matches!(
            Mailer::new(&zero_timeout),
            Err(MailError::Config(_))
        ));
        let zero_port = MailConfig {
            smtp_port: 0,
            ..config("localhost")
        };
        assert!(matches!(Mailer::new(&zero_port), Err(MailError::Config(_))));
    }

    #[test]
    fn bad_sender_is_an_address_error() {
        let c = MailConfig {
            mail_from: "not an address".to_string(),
            ..config("localhost")
        };
        assert!(matches!(Mailer::new(&c), Err(MailError::Address(_))));
    }

    #[test]
    fn bad_recipient_is_an_address_error_before_connecting() {
        // Port 9 on loopback: were a connection attempted, the error would be Send, not Address.
        let c = MailConfig {
            smtp_port: 9,
            ..config("127.0.0.1")
        };
        let mailer = Mailer::new(&c).unwrap().unwrap();
        for to in ["", "nobody", "a@b.example, broken"] {
            let mail = OutgoingMail {
                to: to.to_string(),
                subject: "s".to_string(),
                body: "b".to_string(),
            };
            assert!(
                matches!(mailer.send(&mail), Err(MailError::Address(_))),
                "{to:?}"
            );
        }
    }

    #[test]
    fn recipients_are_checked_by_validator_and_lettre_alike() {
        for good in [
            "zhao@hrss.shandong.example",
            "li.si+gradhub@example.org",
            "wang@例子.中国",
        ] {
            assert!(check_recipient(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "nobody",
            "zhao@@example.org",
            "zhao@",
            "@example.org",
            "a@b.example, c@d.example",
            "张三 <zhang@example.org>",
            " zhao@example.org",
            "zhao @example.org",
            "zhao@exa mple.org",
            "zhao@example..org",
        ] {
            let e = check_recipient(bad).expect_err(bad);
            assert!(e.contains("无效") && e.contains("not a usable"), "{e}");
        }
    }

    #[test]
    fn debug_hides_credentials() {
        let c = MailConfig {
            smtp_username: "user".to_string(),
            smtp_password: "s3cret".into(),
            ..config("localhost")
        };
        let mailer = Mailer::new(&c).unwrap().unwrap();
        let shown = format!("{mailer:?}");
        assert!(shown.contains("localhost:25"), "{shown}");
        assert!(!shown.contains("s3cret"), "{shown}");
    }
}

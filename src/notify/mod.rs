//! E-mail: the SMTP mailer (lettre), the Chinese message texts, and nothing about storage.

pub mod mailer;
pub mod messages;

pub use mailer::{check_recipient, MailConfig, MailError, Mailer, OutgoingMail};

//! E-mail: the SMTP mailer (lettre), the Chinese message texts, and nothing about storage.

pub mod mailer;
pub mod messages;

pub use mailer::{MailConfig, MailError, Mailer, OutgoingMail};

//! Logging: one tracing subscriber, human-readable or JSON lines, to standard error. Every line
//! logged while a request is handled carries that request's `request_id` (its span's field).

use tracing_subscriber::EnvFilter;

/// The span each HTTP request runs in, whose `request_id` every line of the request shows.
const REQUEST_SPAN_TARGET: &str = "tracing_actix_web";

/// Installs the global subscriber; a second call (tests) is a no-op.
pub fn init(format: &str, filter: &str) {
    let mut filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    // A filter such as `warn` or `gradhub=debug` would switch the request span off, and with it
    // the id on every line of the request; the span prints nothing itself, so keep it on unless
    // the operator said otherwise about it.
    if !filter.to_string().contains(REQUEST_SPAN_TARGET) {
        if let Ok(directive) = format!("{REQUEST_SPAN_TARGET}=info").parse() {
            filter = filter.add_directive(directive);
        }
    }
    // Colours only on a terminal: a log file or journal gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let _ = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

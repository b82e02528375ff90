//! A real, minimal SMTP server on loopback for tests: it accepts what lettre sends and keeps it.
// Each test binary uses a different part of the harness.
#![allow(dead_code)]

use base64::Engine as _;
use std::collections::HashMap;
use std::io::{BufRead, BufReader, ErrorKind, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// A mail as it arrived: the envelope and the raw DATA, dot-unstuffed, lines ending in CRLF.
#[derive(Clone, Debug)]
pub struct ReceivedMail {
    pub from: String,
    pub to: Vec<String>,
    pub data: String,
}

/// Open sessions: a handle to shut each socket down, and its thread to join.
type Sessions = Arc<Mutex<Vec<(TcpStream, JoinHandle<()>)>>>;

/// Recipients the server refuses at RCPT TO, with the reply line it gives (`550 …`, `450 …`).
type Refusals = Arc<Mutex<HashMap<String, String>>>;

/// The server. Dropping it stops it too.
pub struct SmtpSink {
    port: u16,
    stop: Arc<AtomicBool>,
    mails: Arc<Mutex<Vec<ReceivedMail>>>,
    refusals: Refusals,
    connections: Sessions,
    acceptor: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        Self::serve(TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0"))
    }

    /// Binds `port`, retrying for up to 5 s while the port is still held by the previous server.
    pub fn start_on(port: u16) -> SmtpSink {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            match TcpListener::bind(("127.0.0.1", port)) {
                Ok(listener) => return Self::serve(listener),
                Err(_) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("bind 127.0.0.1:{port}: {e}"),
            }
        }
    }

    fn serve(listener: TcpListener) -> SmtpSink {
        let port = listener.local_addr().expect("local addr").port();
        // Non-blocking so the loop sees the stop flag; a blocked accept() would keep the port open.
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let stop = Arc::new(AtomicBool::new(false));
        let mails = Arc::new(Mutex::new(Vec::new()));
        let refusals: Refusals = Arc::new(Mutex::new(HashMap::new()));
        let connections: Sessions = Arc::new(Mutex::new(Vec::new()));
        let acceptor = {
            let (stop, mails, connections) = (stop.clone(), mails.clone(), connections.clone());
            let refusals = refusals.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            let Ok(handle) = stream.try_clone() else {
                                continue;
                            };
                            let (mails, refusals) = (mails.clone(), refusals.clone());
                            let worker = std::thread::spawn(move || {
                                let _ = session(stream, &mails, &refusals);
                            });
                            lock(&connections).push((handle, worker));
                        }
                        Err(e) if e.kind() == ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
                // The listener drops here: from now on connecting is refused.
            })
        };
        SmtpSink {
            port,
            stop,
            mails,
            refusals,
            connections,
            acceptor: Some(acceptor),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// From now on, `RCPT TO:<address>` gets `reply` (e.g. `550 5.1.1 no such mailbox`, a
    /// permanent refusal, or `450 4.2.1 mailbox busy`, a temporary one) and the mail is not kept.
    pub fn refuse(&self, address: &str, reply: &str) {
        lock(&self.refusals).insert(address.to_ascii_lowercase(), reply.to_string());
    }

    /// Accepts `address` again.
    pub fn accept(&self, address: &str) {
        lock(&self.refusals).remove(&address.to_ascii_lowercase());
    }

    pub fn received(&self) -> Vec<ReceivedMail> {
        lock(&self.mails).clone()
    }

    /// Polls until at least `count` mails have arrived or `timeout` passed; returns what is there.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            let mails = self.received();
            if mails.len() >= count || Instant::now() >= deadline {
                return mails;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Closes the listener and every open session; returns once the port refuses connections.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        let open: Vec<_> = lock(&self.connections).drain(..).collect();
        for (stream, worker) in open {
            // Ends a session blocked in read so its thread can be joined.
            let _ = stream.shutdown(Shutdown::Both);
            let _ = worker.join();
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panicking session thread must not hide the mails that did arrive.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn session(
    stream: TcpStream,
    mails: &Mutex<Vec<ReceivedMail>>,
    refusals: &Mutex<HashMap<String, String>>,
) -> std::io::Result<()> {
    // Bounded so a client that vanished without FIN cannot keep a thread forever.
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut out = stream.try_clone()?;
    let mut input = BufReader::new(stream);
    out.write_all(b"220 localhost ESMTP gradhub test sink\r\n")?;

    let mut from: Option<String> = None;
    let mut to: Vec<String> = Vec::new();
    let mut line = Vec::new();
    // A refusal's reply, owned for the one answer it is.
    let mut refused_reply: String;
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Ok(());
        }
        let text = String::from_utf8_lossy(&line);
        let text = text.trim_end_matches(['\r', '\n']);
        let verb = text
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-localhost\r\n250 8BITMIME\r\n",
            "HELO" => b"250 localhost\r\n",
            "MAIL" => {
                from = Some(angle_address(text));
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" if from.is_none() => b"503 MAIL first\r\n",
            "RCPT" => {
                let address = angle_address(text);
                match lock(refusals).get(&address.to_ascii_lowercase()) {
                    Some(reply) => {
                        refused_reply = format!("{reply}\r\n");
                        refused_reply.as_bytes()
                    }
                    None => {
                        to.push(address);
                        b"250 OK\r\n"
                    }
                }
            }
            "DATA" if to.is_empty() => b"503 RCPT first\r\n",
            "DATA" => {
                out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")?;
                let data = read_data(&mut input)?;
                lock(mails).push(ReceivedMail {
                    from: from.take().unwrap_or_default(),
                    to: std::mem::take(&mut to),
                    data,
                });
                b"250 OK queued\r\n"
            }
            "RSET" => {
                from = None;
                to.clear();
                b"250 OK\r\n"
            }
            "NOOP" => b"250 OK\r\n",
            "QUIT" => {
                out.write_all(b"221 Bye\r\n")?;
                return Ok(());
            }
            _ => b"502 Command not implemented\r\n",
        };
        out.write_all(reply)?;
    }
}

/// The address between `<` and `>` of `MAIL FROM:<a@b> SIZE=…` or `RCPT TO:<a@b>`.
fn angle_address(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..]
        .find('>')
        .map_or(command.len(), |i| start + i);
    command[start..end].to_string()
}

/// Reads DATA up to the lone `.` line, undoing dot-stuffing.
fn read_data(input: &mut impl BufRead) -> std::io::Result<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.read_until(b'\n', &mut line)? == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        if line == b".\r\n" || line == b".\n" {
            return Ok(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = if line.starts_with(b"..") {
            &line[1..]
        } else {
            &line[..]
        };
        data.extend_from_slice(unstuffed);
    }
}

impl ReceivedMail {
    /// The header section, with folded lines joined back.
    fn headers(&self) -> Vec<(String, String)> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or("");
        let mut headers: Vec<(String, String)> = Vec::new();
        for line in head.split("\r\n") {
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = headers.last_mut() {
                    value.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_string(), value.trim_start().to_string()));
            }
        }
        headers
    }

    /// The first header named `name` (any case), unfolded but not decoded.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// The Subject with RFC 2047 encoded words (`=?utf-8?b?…?=`, `=?utf-8?q?…?=`) decoded.
    pub fn subject_decoded(&self) -> String {
        decode_encoded_words(&self.header("Subject").unwrap_or_default())
    }

    /// The body with its Content-Transfer-Encoding undone and line ends turned into `\n`: what
    /// was passed as `OutgoingMail::body`, byte for byte.
    pub fn body_decoded(&self) -> String {
        let raw = self
            .data
            .split_once("\r\n\r\n")
            .map_or("", |(_, body)| body);
        // DATA always ends in CRLF before the dot; that one belongs to the framing, not the text.
        let raw = raw.strip_suffix("\r\n").unwrap_or(raw);
        let encoding = self
            .header("Content-Transfer-Encoding")
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        let bytes = match encoding.as_str() {
            "base64" => {
                let compact: String = raw.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                base64::engine::general_purpose::STANDARD
                    .decode(compact)
                    .expect("base64 body")
            }
            "quoted-printable" => decode_quoted_printable(raw),
            _ => raw.as_bytes().to_vec(),
        };
        String::from_utf8_lossy(&bytes).replace("\r\n", "\n")
    }
}

fn decode_quoted_printable(raw: &str) -> Vec<u8> {
    let raw = raw.replace("=\r\n", "").replace("=\n", "");
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'=' && i + 2 < bytes.len() {
            if let Some(byte) = hex_byte(bytes[i + 1], bytes[i + 2]) {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    let digit = |c: u8| (c as char).to_digit(16);
    Some((digit(hi)? * 16 + digit(lo)?) as u8)
}

/// Decodes RFC 2047 words; whitespace between two adjacent encoded words is dropped, and their
/// bytes are joined before UTF-8 decoding because one character may be split across words.
fn decode_encoded_words(value: &str) -> String {
    let mut out = String::new();
    let mut pending: Vec<u8> = Vec::new();
    let mut gap = String::new();
    let mut after_word = false;
    let mut rest = value;
    while let Some(c) = rest.chars().next() {
        if let Some((bytes, len)) = encoded_word(rest) {
            if !after_word {
                out.push_str(&gap);
            }
            gap.clear();
            pending.extend_from_slice(&bytes);
            after_word = true;
            rest = &rest[len..];
            continue;
        }
        if c == ' ' || c == '\t' {
            gap.push(c);
        } else {
            out.push_str(&String::from_utf8_lossy(&std::mem::take(&mut pending)));
            out.push_str(&std::mem::take(&mut gap));
            out.push(c);
            after_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&String::from_utf8_lossy(&pending));
    out.push_str(&gap);
    out
}

/// `=?charset?b|q?text?=` at the start of `s`: its bytes and its length.
fn encoded_word(s: &str) -> Option<(Vec<u8>, usize)> {
    let inner = s.strip_prefix("=?")?;
    let (_charset, rest) = inner.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let text = &rest[..end];
    if text.contains([' ', '\t']) {
        return None;
    }
    let bytes = match encoding {
        "b" | "B" => base64::engine::general_purpose::STANDARD
            .decode(text)
            .ok()?,
        "q" | "Q" => decode_quoted_printable(&text.replace('_', " ")),
        _ => return None,
    };
    let len = s.len() - rest.len() + end + 2;
    Some((bytes, len))
}

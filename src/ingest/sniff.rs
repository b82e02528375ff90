//! The first pass over a file: its SHA-256, and what it is (format, encoding), or why it cannot
//! be read at all. Reads the bytes once, in fixed-size pieces, whatever the file's size.

use super::Refusal;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// What a readable file turned out to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Tsv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// Text encodings the hub recognises; never asked of the sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf8Bom,
    Gb18030,
    Utf16Le,
    Utf16Be,
    /// XLSX carries its own (UTF-8 XML).
    Binary,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf8Bom => "UTF-8-BOM",
            Encoding::Gb18030 => "GB18030",
            Encoding::Utf16Le => "UTF-16LE",
            Encoding::Utf16Be => "UTF-16BE",
            Encoding::Binary => "xlsx",
        }
    }
}

/// The result of the first pass.
#[derive(Clone, Debug)]
pub struct Sniffed {
    pub sha256: String,
    pub size: u64,
    pub format: Format,
    pub encoding: Encoding,
}

const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
const OLE_MAGIC: &[u8] = &[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Hashes and classifies the file. `file_name` decides only between comma and tab when the
/// content does not.
pub fn sniff(path: &Path, file_name: &str) -> Result<Sniffed, SniffError> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut head: Vec<u8> = Vec::with_capacity(64 * 1024);
    let mut size = 0u64;
    let mut lines = LineClassifier::default();
    let mut has_nul = false;
    let mut ole_encrypted = false;
    let mut blank = true;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        let piece = &buf[..n];
        hasher.update(piece);
        if head.len() < 64 * 1024 {
            let take = (64 * 1024 - head.len()).min(n);
            head.extend_from_slice(&piece[..take]);
        }
        size += n as u64;
        if !has_nul && piece.contains(&0) {
            has_nul = true;
        }
        if head.starts_with(OLE_MAGIC) && contains_utf16(piece, "EncryptedPackage") {
            ole_encrypted = true;
        }
        blank = blank && piece.iter().all(|b| b.is_ascii_whitespace());
        lines.feed(piece);
        // A plain-text file is judged while it is read: NUL bytes or a line past the limit
        // refuse it at once, so a sparse or unbroken gigabyte is neither read whole nor held.
        if head.len() >= OLE_MAGIC.len() && is_plain_text(&head) {
            if has_nul {
                return Err(SniffError::Refused(Refusal::binary()));
            }
            if let Some(line) = lines.too_long_line {
                return Err(SniffError::Refused(Refusal::line_too_long(
                    line,
                    super::readers::MAX_RECORD_BYTES,
                )));
            }
        }
    }
    lines.finish();
    let sha256 = hex::encode(hasher.finalize());
    let format_of_text = |first_line: &[u8]| {
        let tabs = first_line.iter().filter(|b| **b == b'\t').count();
        let commas = first_line.iter().filter(|b| **b == b',').count();
        let by_name = file_name.to_ascii_lowercase();
        if tabs > commas || (tabs > 0 && (by_name.ends_with(".tsv") || by_name.ends_with(".txt"))) {
            Format::Tsv
        } else {
            Format::Csv
        }
    };
    let refuse = |r: Refusal| Err(SniffError::Refused(r));
    if blank {
        return refuse(Refusal::empty());
    }
    if head.starts_with(ZIP_MAGIC) {
        return Ok(Sniffed {
            sha256,
            size,
            format: Format::Xlsx,
            encoding: Encoding::Binary,
        });
    }
    if head.starts_with(OLE_MAGIC) {
        return refuse(if ole_encrypted {
            Refusal::encrypted()
        } else {
            Refusal::old_excel()
        });
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        let le = head.starts_with(&[0xFF, 0xFE]);
        let first_line = utf16_first_line(&head[2..], le);
        return Ok(Sniffed {
            sha256,
            size,
            format: format_of_text(&first_line),
            encoding: if le {
                Encoding::Utf16Le
            } else {
                Encoding::Utf16Be
            },
        });
    }
    if has_nul {
        return refuse(Refusal::binary());
    }
    let bom = head.starts_with(&[0xEF, 0xBB, 0xBF]);
    let encoding = match (lines.utf8_lines, lines.invalid_lines) {
        (_, 0) if bom => Encoding::Utf8Bom,
        (_, 0) => Encoding::Utf8,
        (0, _) if !bom => Encoding::Gb18030,
        _ => return refuse(Refusal::mixed_encoding(lines.first_invalid_line)),
    };
    Ok(Sniffed {
        sha256,
        size,
        format: format_of_text(&lines.first_content),
        encoding,
    })
}

/// Why the first pass stopped.
#[derive(Debug)]
pub enum SniffError {
    Refused(Refusal),
    Io(std::io::Error),
}

impl From<std::io::Error> for SniffError {
    fn from(e: std::io::Error) -> Self {
        SniffError::Io(e)
    }
}

/// Whether the file's first bytes are those of a text file without BOM-marked UTF-16: the
/// files whose lines the reader splits on single bytes.
fn is_plain_text(head: &[u8]) -> bool {
    !(head.starts_with(ZIP_MAGIC)
        || head.starts_with(OLE_MAGIC)
        || head.starts_with(&[0xFF, 0xFE])
        || head.starts_with(&[0xFE, 0xFF]))
}

/// Counts lines that are valid UTF-8 with non-ASCII text and lines that are not valid UTF-8, so
/// a file that mixes UTF-8 and GBK lines is refused instead of half of it turning to mojibake.
/// Lines end at LF, CRLF or a lone CR, numbered as the reader numbers them. Each line is judged
/// as it streams by: memory stays the same however long a line is.
#[derive(Default)]
struct LineClassifier {
    /// Lines completed so far.
    line_no: u64,
    line_len: usize,
    /// The last byte was a CR: an LF right after it ends nothing more.
    after_cr: bool,
    non_ascii: bool,
    invalid: bool,
    /// The start of a UTF-8 character cut off at the end of the last piece (at most 3 bytes).
    pending: Vec<u8>,
    utf8_lines: u64,
    invalid_lines: u64,
    first_invalid_line: u64,
    /// The first line with anything but white space, up to 64 KB: it decides comma or tab.
    first_content: Vec<u8>,
    first_found: bool,
    /// The first line longer than the reader's row limit.
    too_long_line: Option<u64>,
}

impl LineClassifier {
    fn feed(&mut self, piece: &[u8]) {
        let mut rest = piece;
        while !rest.is_empty() {
            let Some(pos) = rest.iter().position(|b| *b == b'\n' || *b == b'\r') else {
                self.segment(rest);
                return;
            };
            if pos > 0 {
                self.segment(&rest[..pos]);
            }
            let end = rest[pos];
            if !(end == b'\n' && pos == 0 && self.after_cr) {
                self.end_line();
            }
            self.after_cr = end == b'\r';
            rest = &rest[pos + 1..];
        }
    }

    /// Part of a line, without its line end.
    fn segment(&mut self, bytes: &[u8]) {
        self.after_cr = false;
        self.line_len = self.line_len.saturating_add(bytes.len());
        if self.line_len > super::readers::MAX_RECORD_BYTES && self.too_long_line.is_none() {
            self.too_long_line = Some(self.line_no + 1);
        }
        if !self.first_found && self.first_content.len() < 64 * 1024 {
            let take = (64 * 1024 - self.first_content.len()).min(bytes.len());
            self.first_content.extend_from_slice(&bytes[..take]);
        }
        if self.invalid || (bytes.is_ascii() && self.pending.is_empty()) {
            return;
        }
        self.non_ascii = true;
        let joined;
        let text: &[u8] = if self.pending.is_empty() {
            bytes
        } else {
            joined = [std::mem::take(&mut self.pending).as_slice(), bytes].concat();
            &joined
        };
        match std::str::from_utf8(text) {
            Ok(_) => {}
            // A character cut off by the end of the piece: its first bytes wait for the rest.
            Err(e) if e.error_len().is_none() => {
                self.pending = text[e.valid_up_to()..].to_vec();
            }
            Err(_) => self.invalid = true,
        }
    }

    fn end_line(&mut self) {
        self.line_no += 1;
        if !self.pending.is_empty() {
            self.invalid = true;
            self.pending.clear();
        }
        if self.invalid {
            if self.invalid_lines == 0 {
                self.first_invalid_line = self.line_no;
            }
            self.invalid_lines += 1;
        } else if self.non_ascii {
            self.utf8_lines += 1;
        }
        if !self.first_found {
            let skip_bom =
                if self.line_no == 1 && self.first_content.starts_with(&[0xEF, 0xBB, 0xBF]) {
                    3
                } else {
                    0
                };
            if self.first_content[skip_bom..]
                .iter()
                .all(|b| b.is_ascii_whitespace())
            {
                self.first_content.clear();
            } else {
                self.first_found = true;
            }
        }
        self.line_len = 0;
        self.non_ascii = false;
        self.invalid = false;
    }

    fn finish(&mut self) {
        if self.line_len > 0 || !self.pending.is_empty() {
            self.end_line();
        }
    }
}

fn contains_utf16(haystack: &[u8], needle: &str) -> bool {
    let pattern: Vec<u8> = needle
        .encode_utf16()
        .flat_map(|u| u.to_le_bytes())
        .collect();
    haystack.windows(pattern.len()).any(|w| w == pattern)
}

fn utf16_first_line(bytes: &[u8], le: bool) -> Vec<u8> {
    bytes
        .chunks_exact(2)
        .map(|p| {
            if le {
                u16::from_le_bytes([p[0], p[1]])
            } else {
                u16::from_be_bytes([p[0], p[1]])
            }
        })
        .take_while(|u| *u != u16::from(b'\n'))
        .filter_map(|u| u8::try_from(u).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniff_bytes(bytes: &[u8], name: &str) -> Result<Sniffed, SniffError> {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).expect("write");
        sniff(&path, name)
    }

    fn refusal(result: Result<Sniffed, SniffError>) -> Refusal {
        match result {
            Err(SniffError::Refused(r)) => r,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn blank_lines_before_a_tab_header_still_decide_tab() {
        let text = format!(
            "{}姓名\t性别\t证件号码\r\n张三\t男\t1\r\n",
            "\r\n".repeat(40_000)
        );
        let sniffed = sniff_bytes(text.as_bytes(), "a.csv").expect("readable");
        assert_eq!(
            (sniffed.format, sniffed.encoding),
            (Format::Tsv, Encoding::Utf8)
        );
    }

    #[test]
    fn mixed_encoding_names_the_line_with_cr_line_ends() {
        let mut bytes = "姓名,性别\r张三,男\r".as_bytes().to_vec();
        let (gbk, _, _) = encoding_rs::GBK.encode("李四,女");
        bytes.extend_from_slice(&gbk);
        bytes.push(b'\r');
        let r = refusal(sniff_bytes(&bytes, "m.csv"));
        assert_eq!(r.code, "FILE_ENCODING_MIXED");
        assert!(r.message.contains("第 3 行"), "{r}");
    }

    #[test]
    fn a_character_cut_by_the_read_size_is_still_utf8() {
        let mut text = "a".repeat((1 << 20) - 1);
        text.push_str("张三\n李四\n");
        let sniffed = sniff_bytes(text.as_bytes(), "c.csv").expect("readable");
        assert_eq!(sniffed.encoding, Encoding::Utf8);
    }

    #[test]
    fn nul_bytes_and_unbroken_lines_are_refused_while_reading() {
        assert_eq!(
            refusal(sniff_bytes(&[0u8; 4096], "z.csv")).code,
            "FILE_BINARY"
        );
        let line = "a".repeat(super::super::readers::MAX_RECORD_BYTES + 1);
        assert_eq!(
            refusal(sniff_bytes(line.as_bytes(), "l.csv")).code,
            "LINE_TOO_LONG"
        );
    }
}

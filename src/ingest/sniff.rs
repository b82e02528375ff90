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
        lines.feed(piece);
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
    if head.iter().all(|b| b.is_ascii_whitespace()) {
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
    let start = if bom { 3 } else { 0 };
    let first_line = head[start..]
        .split(|b| *b == b'\n')
        .find(|l| !l.iter().all(|b| b.is_ascii_whitespace()))
        .unwrap_or(&[]);
    Ok(Sniffed {
        sha256,
        size,
        format: format_of_text(first_line),
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

/// Counts lines that are valid UTF-8 with non-ASCII text and lines that are not valid UTF-8, so
/// a file that mixes UTF-8 and GBK lines is refused instead of half of it turning to mojibake.
#[derive(Default)]
struct LineClassifier {
    carry: Vec<u8>,
    line_no: u64,
    utf8_lines: u64,
    invalid_lines: u64,
    first_invalid_line: u64,
}

impl LineClassifier {
    fn feed(&mut self, piece: &[u8]) {
        let mut rest = piece;
        while let Some(pos) = rest.iter().position(|b| *b == b'\n') {
            let (line, tail) = rest.split_at(pos);
            if self.carry.is_empty() {
                self.classify(line);
            } else {
                let mut joined = std::mem::take(&mut self.carry);
                joined.extend_from_slice(line);
                self.classify(&joined);
            }
            rest = &tail[1..];
        }
        self.carry.extend_from_slice(rest);
    }

    fn finish(&mut self) {
        let last = std::mem::take(&mut self.carry);
        if !last.is_empty() {
            self.classify(&last);
        }
    }

    fn classify(&mut self, line: &[u8]) {
        self.line_no += 1;
        if line.is_ascii() {
            return;
        }
        if std::str::from_utf8(line).is_ok() {
            self.utf8_lines += 1;
        } else {
            if self.invalid_lines == 0 {
                self.first_invalid_line = self.line_no;
            }
            self.invalid_lines += 1;
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

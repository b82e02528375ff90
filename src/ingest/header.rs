//! The header row: finding it (title rows above it are common in Excel), mapping its cells to
//! transfer-file columns in any order, and refusing a file that lacks a required column.

use super::Refusal;
use crate::domain::graduate::Column;

/// More columns than this is not a transfer file (the format has 19).
pub const MAX_COLUMNS: usize = 200;
/// How many leading rows may stand above the header (a title, a date line, …).
pub const HEADER_SEARCH_ROWS: usize = 10;
/// A row naming at least this many columns is taken as the header.
const HEADER_MIN_KNOWN: usize = 3;

/// Where each transfer-file column sits in the file's rows.
#[derive(Clone, Debug)]
pub struct HeaderMap {
    pub positions: [Option<usize>; 19],
    pub unknown: Vec<String>,
}

/// How many distinct transfer-file columns a row names.
pub fn known_columns(cells: &[String]) -> usize {
    let mut seen = [false; 19];
    for cell in cells.iter().take(MAX_COLUMNS) {
        if let Some(c) = Column::from_header(cell) {
            seen[c.index()] = true;
        }
    }
    seen.iter().filter(|s| **s).count()
}

/// Whether this row looks like the header (names enough columns).
pub fn is_header(cells: &[String]) -> bool {
    known_columns(cells) >= HEADER_MIN_KNOWN
}

/// Maps a header row, or refuses the file naming what is wrong.
pub fn map(cells: &[String]) -> Result<HeaderMap, Refusal> {
    let width = cells
        .iter()
        .rposition(|c| !c.trim().is_empty())
        .map_or(0, |p| p + 1);
    if width > MAX_COLUMNS {
        return Err(Refusal::too_many_columns(width));
    }
    let mut positions = [None; 19];
    let mut unknown = Vec::new();
    for (i, cell) in cells.iter().take(width).enumerate() {
        let name = cell.trim();
        match Column::from_header(name) {
            Some(c) if positions[c.index()].is_none() => positions[c.index()] = Some(i),
            Some(_) => unknown.push(format!("{name}（重复列，已忽略 / duplicate, ignored）")),
            None if name.is_empty() => {}
            None => unknown.push(name.to_string()),
        }
    }
    let mut missing: Vec<Column> = Column::ALL
        .iter()
        .copied()
        .filter(|c| c.required() && positions[c.index()].is_none())
        .collect();
    if positions[Column::HukouCode.index()].is_none()
        && positions[Column::HukouAddress.index()].is_none()
    {
        missing.push(Column::HukouCode);
    }
    if !missing.is_empty() {
        return Err(Refusal::columns_missing(&missing));
    }
    Ok(HeaderMap { positions, unknown })
}

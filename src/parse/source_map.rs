//! Byte offsets in parsed text → what users see: 1-based line, 1-based column in characters,
//! and for a notebook the 1-based code cell with the line inside that cell.
//!
//! Lines end at `\n`, `\r\n` or a lone `\r`, as in Python's tokenizer. An offset inside a
//! multi-byte character (never produced by the parser) counts the characters before it.

use ruff_text_size::TextSize;

/// A position as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Location {
    pub cell: Option<u32>,
    pub line: u32,
    pub column: u32,
}

pub struct SourceMap<'a> {
    text: &'a str,
    /// Byte offset where each line starts.
    line_starts: Vec<usize>,
    /// For notebooks: (first line index, cell index), by offset order.
    cells: Vec<(usize, u32)>,
}

impl<'a> SourceMap<'a> {
    /// `cells` holds the byte offset where each code cell starts and its 1-based index.
    pub fn new(text: &'a str, cells: &[(usize, u32)]) -> Self {
        let bytes = text.as_bytes();
        // Sized for lines of 32 bytes, so that most files never grow it.
        let mut line_starts = Vec::with_capacity(bytes.len() / 32 + 2);
        line_starts.push(0);
        if memchr::memchr(b'\r', bytes).is_none() {
            line_starts.extend(memchr::memchr_iter(b'\n', bytes).map(|i| i + 1));
        } else {
            for i in memchr::memchr2_iter(b'\n', b'\r', bytes) {
                if bytes[i] == b'\n' || bytes.get(i + 1) != Some(&b'\n') {
                    line_starts.push(i + 1);
                }
            }
        }
        let mut map = Self {
            text,
            line_starts,
            cells: Vec::new(),
        };
        map.cells = cells
            .iter()
            .map(|&(start, index)| (map.line_index(start), index))
            .collect();
        map
    }

    fn line_index(&self, offset: usize) -> usize {
        self.line_starts
            .partition_point(|&start| start <= offset)
            .saturating_sub(1)
    }

    pub fn locate(&self, offset: TextSize) -> Location {
        let offset = usize::from(offset).min(self.text.len());
        let line = self.line_index(offset);
        let start = self.line_starts[line];
        let before = &self.text.as_bytes()[start..offset];
        let column = if before.is_ascii() {
            before.len()
        } else {
            match std::str::from_utf8(before) {
                Ok(text) => text.chars().count(),
                Err(_) => String::from_utf8_lossy(before).chars().count(),
            }
        } + 1;
        let (cell, line) = match self.cells.partition_point(|&(first, _)| first <= line) {
            0 => (None, line + 1),
            n => {
                let (first, index) = self.cells[n - 1];
                (Some(index), line - first + 1)
            }
        };
        Location {
            cell,
            line: super::decode::saturate(line),
            column: super::decode::saturate(column),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_count_characters_not_bytes() {
        let map = SourceMap::new("x = 'é'; import os\n", &[]);
        let loc = map.locate(TextSize::from(17));
        assert_eq!((loc.line, loc.column), (1, 17));
    }

    #[test]
    fn crlf_and_lone_cr_end_lines() {
        let map = SourceMap::new("a\r\nb\rc\n", &[]);
        assert_eq!(map.locate(TextSize::from(5)).line, 3);
    }

    #[test]
    fn notebook_offsets_map_to_the_line_inside_their_cell() {
        let text = "import a\nx = 1\nimport b";
        let map = SourceMap::new(text, &[(0, 1), (9, 2)]);
        let loc = map.locate(TextSize::from(15));
        assert_eq!((loc.cell, loc.line, loc.column), (Some(2), 2, 1));
    }
}

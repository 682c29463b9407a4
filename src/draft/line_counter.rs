//! Line numbers of byte offsets met in order, counted as a scan goes: for
//! the scans of a template or an HTML source that report where they found
//! something (one count over the text, however many finds).

/// Turns offsets, given in increasing order, into 1-based line numbers.
pub(crate) struct LineCounter<'t> {
    bytes: &'t [u8],
    /// The line of `counted`.
    line: u64,
    /// The newlines before this offset are counted.
    counted: usize,
}

impl<'t> LineCounter<'t> {
    pub(crate) fn new(text: &'t str) -> Self {
        LineCounter {
            bytes: text.as_bytes(),
            line: 1,
            counted: 0,
        }
    }

    /// The 1-based line of `offset`. An offset before the last one asked
    /// about gets that one's line (the scans never go back).
    pub(crate) fn line_at(&mut self, offset: usize) -> u64 {
        let offset = offset.min(self.bytes.len());
        if offset > self.counted {
            self.line +=
                memchr::memchr_iter(b'\n', &self.bytes[self.counted..offset]).count() as u64;
            self.counted = offset;
        }
        self.line
    }
}

#[cfg(test)]
mod tests {
    use super::LineCounter;

    #[test]
    fn lines_of_offsets_in_order() {
        let text = "a\nbc\n\nd";
        let mut lines = LineCounter::new(text);
        assert_eq!(lines.line_at(0), 1);
        assert_eq!(lines.line_at(2), 2);
        assert_eq!(lines.line_at(3), 2);
        assert_eq!(lines.line_at(6), 4);
        assert_eq!(lines.line_at(100), 4);
    }
}

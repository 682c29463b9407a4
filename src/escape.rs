//! Making untrusted text (list values, header values, file names) safe for
//! the place it is written to: a terminal or CI log, or a spreadsheet.
//!
//! A leaf module: every output format uses it, and it uses nothing.

use std::borrow::Cow;
use std::fmt::Write;

/// `text` with every control character shown as an escape (`\n`, `\r`,
/// `\t`, `\x1b`, `\u{9b}`, `\u{202e}`), for text written to a terminal or a
/// CI log.
///
/// A list value is the sender's data, not theirs to run: raw, `ESC]0;…`
/// retitles the terminal, `ESC[2J` clears it, and a value holding a line
/// break can start a line of its own — `::warning file=…::` in a GitHub
/// Actions log is a workflow command. Escaped are the C0 controls (tab and
/// line breaks too), DEL, the C1 controls (U+0080–U+009F: U+009B is a CSI
/// in some terminals), the Unicode line and paragraph separators, and the
/// bidirectional overrides and isolates, which reorder what the reader sees
/// ("Trojan Source"). Text without any of them is borrowed as it is.
pub fn control_chars(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\x7f' => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if is_unsafe(c) => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// True for a character [`control_chars`] escapes.
fn is_unsafe(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'
        )
}

/// `cell` made safe to open in a spreadsheet program ("CSV injection",
/// OWASP): a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage
/// return is read by Excel, LibreOffice and Google Sheets as a formula
/// (`=HYPERLINK(…)` sends data away, `-2+3+cmd|…` once ran programs), so it
/// gets a leading `'`, as OWASP recommends — the spreadsheet shows the
/// value as text, and a person reading the file still reads it.
///
/// A number with a sign (`-5`, `+31 6 12345678`) is left as it is: made of
/// digits and punctuation only, it cannot call a function, and a quote
/// would only spoil it.
pub fn spreadsheet_cell(cell: &str) -> Cow<'_, str> {
    let Some(first) = cell.chars().next() else {
        return Cow::Borrowed(cell);
    };
    let formula = match first {
        '=' | '@' | '\t' | '\r' => true,
        '+' | '-' => !is_signed_number(&cell[1..]),
        _ => false,
    };
    if formula {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// True when `rest` (what follows a leading sign) is a number as people
/// write one: digits, with spaces, dots, commas, brackets, slashes and
/// dashes between them.
fn is_signed_number(rest: &str) -> bool {
    rest.starts_with(|c: char| c.is_ascii_digit() || c == '(')
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '.' | ',' | '(' | ')' | '/' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_and_line_breaks_are_shown_escaped() {
        assert_eq!(
            control_chars("a\x1b]0;pwned\x07b\x1b[2J"),
            "a\\x1b]0;pwned\\x07b\\x1b[2J"
        );
        assert_eq!(
            control_chars("x\n::warning file=a::b\r\t"),
            "x\\n::warning file=a::b\\r\\t"
        );
        assert_eq!(
            control_chars("\u{9b}31m\u{202e}cba\x7f"),
            "\\u{9b}31m\\u{202e}cba\\x7f"
        );
        assert!(matches!(
            control_chars("Jöhn <j@x.nl> 😀"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn formula_cells_get_a_leading_quote() {
        for (cell, safe) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
            ("=1+2", "'=1+2"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
            ("\t=1", "'\t=1"),
            ("\r=1", "'\r=1"),
            ("-", "'-"),
        ] {
            assert_eq!(spreadsheet_cell(cell), safe, "{cell:?}");
        }
    }

    #[test]
    fn plain_values_and_signed_numbers_are_kept() {
        for cell in [
            "",
            "jan@example.nl",
            "Jan",
            "-5",
            "+31 6 12345678",
            "-1.5",
            "a=b",
            "(0)6",
        ] {
            assert!(
                matches!(spreadsheet_cell(cell), Cow::Borrowed(_)),
                "{cell:?}"
            );
        }
    }
}

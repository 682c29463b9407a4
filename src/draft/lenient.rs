//! Decoding a damaged transfer encoding the way mail clients show it
//! (SPEC §3, `damaged-encoding`).
//!
//! mail-parser refuses a quoted-printable or base64 body with a single
//! stray character; Thunderbird, Apple Mail and Outlook show such a body
//! anyway. Here:
//! - quoted-printable: a `=` that is not followed by two hex digits or by
//!   the end of the line stays a literal `=` (RFC 2045 §6.7, note 1);
//!   lower-case hex digits are read as upper-case ones (not damage);
//! - base64: characters outside the alphabet are skipped, and a line whose
//!   characters do not make whole 4-character groups is decoded as far as it
//!   goes, the next line starting a new group (encoders write lines of whole
//!   groups, so one broken line does not garble the rest).
//!
//! Each decoder says where the first damage is, as a byte offset into the
//! encoded body.

/// What a lenient decoder found wrong, first occurrence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Damage {
    /// Byte offset in the encoded body.
    pub offset: usize,
    /// What is wrong, for the diagnostic (`a "=" not followed by two hex
    /// digits`).
    pub what: &'static str,
}

/// Decodes quoted-printable leniently; `None` damage when the body was
/// valid.
pub fn quoted_printable(body: &[u8]) -> (Vec<u8>, Option<Damage>) {
    let mut out = Vec::with_capacity(body.len());
    let mut damage = None;
    let mut mark = |offset: usize, what: &'static str| {
        damage.get_or_insert(Damage { offset, what });
    };
    for (start, line) in lines_with_offsets(body) {
        let (content, has_break) = match line.strip_suffix(b"\n") {
            Some(l) => (l.strip_suffix(b"\r").unwrap_or(l), true),
            None => (line, false),
        };
        // Trailing whitespace is transport padding (RFC 2045 §6.7 rule 3).
        let content = content.trim_ascii_end();
        let mut i = 0;
        let mut soft_break = false;
        while i < content.len() {
            let b = content[i];
            if b != b'=' {
                out.push(b);
                i += 1;
                continue;
            }
            let rest = &content[i + 1..];
            if rest.is_empty() {
                soft_break = true;
                break;
            }
            match (
                rest.first().and_then(|&h| hex(h)),
                rest.get(1).and_then(|&h| hex(h)),
            ) {
                // Lower-case digits are not RFC 2045's, but read the same
                // everywhere: no damage.
                (Some(hi), Some(lo)) => {
                    out.push(hi * 16 + lo);
                    i += 3;
                }
                _ => {
                    mark(start + i, "a \"=\" not followed by two hex digits");
                    out.push(b'=');
                    i += 1;
                }
            }
        }
        if has_break && !soft_break {
            out.push(b'\n');
        }
    }
    (out, damage)
}

fn hex(b: u8) -> Option<u8> {
    char::from(b).to_digit(16).map(|d| d as u8)
}

/// The lines of `body` with the offset each starts at (line breaks kept).
fn lines_with_offsets(body: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    body.split_inclusive(|&b| b == b'\n').map(move |line| {
        let at = start;
        start += line.len();
        (at, line)
    })
}

/// Decodes base64 leniently. `Err` when the body is not base64 at all:
/// most of its lines are text (spaces inside the line, or several
/// characters outside the alphabet), as when a body was declared base64 but
/// written as plain text. Such a body cannot be read, and the draft is
/// refused.
pub fn base64(body: &[u8]) -> Result<(Vec<u8>, Option<Damage>), ()> {
    let mut out = Vec::with_capacity(body.len() / 4 * 3);
    let mut damage = None;
    let mut mark = |offset: usize, what: &'static str| {
        damage.get_or_insert(Damage { offset, what });
    };
    let mut text_lines = 0;
    let lines: Vec<(usize, &[u8])> = lines_with_offsets(body)
        .filter(|(_, l)| !l.trim_ascii().is_empty())
        .collect();
    let mut finished = false;
    for (n, (start, line)) in lines.iter().enumerate() {
        let trimmed = line.trim_ascii();
        let foreign = trimmed
            .iter()
            .filter(|&&b| sextet(b).is_none() && b != b'=')
            .count();
        if foreign >= 2 {
            text_lines += 1;
        }
        let mut group = [0u8; 4];
        let mut len = 0;
        let mut padded = false;
        for (i, &b) in line.iter().enumerate() {
            if b.is_ascii_whitespace() {
                continue;
            }
            if b == b'=' {
                padded = true;
                continue;
            }
            let Some(value) = sextet(b) else {
                mark(start + i, "a character that is not base64");
                continue;
            };
            if padded || finished {
                mark(start + i, "text after the base64 padding");
                padded = false;
            }
            group[len] = value;
            len += 1;
            if len == 4 {
                out.extend_from_slice(&[
                    group[0] << 2 | group[1] >> 4,
                    group[1] << 4 | group[2] >> 2,
                    group[2] << 6 | group[3],
                ]);
                len = 0;
            }
        }
        // A partial group: what it holds, then a fresh start on the next line.
        if len >= 2 {
            out.push(group[0] << 2 | group[1] >> 4);
        }
        if len >= 3 {
            out.push(group[1] << 4 | group[2] >> 2);
        }
        let last = n + 1 == lines.len();
        if len != 0 && !(last || padded) {
            mark(*start, "a line that breaks off in the middle of a group");
        }
        if padded {
            finished = true;
        }
    }
    if text_lines * 2 > lines.len() {
        return Err(());
    }
    Ok((out, damage))
}

fn sextet(b: u8) -> Option<u8> {
    match b {
        b'A'..=b'Z' => Some(b - b'A'),
        b'a'..=b'z' => Some(b - b'a' + 26),
        b'0'..=b'9' => Some(b - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(s: &str) -> (String, Option<Damage>) {
        let (bytes, damage) = quoted_printable(s.as_bytes());
        (String::from_utf8_lossy(&bytes).into_owned(), damage)
    }

    #[test]
    fn valid_quoted_printable_is_not_damaged() {
        let (text, damage) = qp("caf=C3=A9 =\ntafels=3D   \nend\n");
        assert_eq!(text, "café tafels=\nend\n");
        assert_eq!(damage, None);
    }

    #[test]
    fn stray_equals_sign_stays_a_literal() {
        let (text, damage) = qp("Korting = 20% op alles\n2+2=4 en 50=50\n");
        assert_eq!(text, "Korting = 20% op alles\n2+2=4 en 50P\n");
        let damage = damage.expect("damaged");
        assert_eq!(damage.offset, 8);
        assert!(damage.what.contains("hex"));
        let (text, _) = qp("<a href=\"x\">=ZZ</a>\n");
        assert_eq!(text, "<a href=\"x\">=ZZ</a>\n");
    }

    #[test]
    fn lower_case_hex_is_decoded_without_complaint() {
        let (text, damage) = qp("caf=c3=a9\n");
        assert_eq!(text, "café\n");
        assert_eq!(damage, None);
    }

    #[test]
    fn valid_base64_is_not_damaged() {
        let (bytes, damage) = base64(b"SGVsbG8g\nd29ybGQ=\n").expect("base64");
        assert_eq!(bytes, b"Hello world");
        assert_eq!(damage, None);
    }

    #[test]
    fn a_broken_base64_line_does_not_garble_the_rest() {
        // Line 2 lost a character; line 3 still decodes.
        let body = b"SGVsbG8g\nd29ybG\nIGFnYWlu\n";
        let (bytes, damage) = base64(body).expect("base64");
        assert_eq!(String::from_utf8_lossy(&bytes), "Hello worl again");
        assert_eq!(damage.map(|d| d.offset), Some(9));
        // A stray character inside a line is skipped.
        let (bytes, damage) = base64(b"SGVs!bG8g\n").expect("base64");
        assert_eq!(bytes, b"Hello ");
        assert_eq!(damage.map(|d| d.offset), Some(4));
    }

    #[test]
    fn text_that_is_no_base64_at_all_is_refused() {
        assert!(base64(b"<p>Hallo! Dit is gewoon tekst, geen base64.</p>\n").is_err());
    }
}

//! Scanning bytes eight at a time in a `u64` ("SWAR"): the few places
//! where a short text is searched so often (every cell, address or
//! diagnostic) that a byte loop shows in the profile, and the texts are too
//! short for the compiler's vector loops to pay off. One module, so the bit
//! tricks are written and tested once.

/// `0x01` in every byte.
const ONES: u64 = 0x0101_0101_0101_0101;
/// `0x80` in every byte: the high bits the tricks below leave their answer in.
const HIGHS: u64 = ONES * 0x80;

/// Calls `f` with each position of `byte` in `bytes`, in order. Eight
/// bytes at a time: the delimiters of a line are a byte in ten, too many
/// for a search that starts over after each (`memchr_iter` took more
/// instructions than the rest of the line's reading). (Gathering a mask of
/// 64 bytes first, to loop once per 64, took more instructions and no
/// less time.)
#[inline]
pub fn for_each_position(bytes: &[u8], byte: u8, mut f: impl FnMut(usize)) {
    const LOW_SEVENS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let splat = ONES * u64::from(byte);
    let (words, rest) = bytes.as_chunks::<8>();
    for (i, word) in words.iter().enumerate() {
        // The lanes equal to `byte` are zero in `x`; a lane's high bit ends
        // up set exactly when it is zero (adding 0x7f to its low seven bits
        // carries into no other lane).
        let x = u64::from_le_bytes(*word) ^ splat;
        let mut found = !(((x & LOW_SEVENS) + LOW_SEVENS) | x | LOW_SEVENS);
        while found != 0 {
            f(i * 8 + found.trailing_zeros() as usize / 8);
            found &= found - 1;
        }
    }
    let offset = bytes.len() - rest.len();
    for (i, &b) in rest.iter().enumerate() {
        if b == byte {
            f(offset + i);
        }
    }
}

/// Whether `bytes` hold any byte outside ASCII, and (when they do not) any
/// upper-case ASCII letter. Eight bytes at a time in a `u64`: an address is
/// a few dozen bytes, too short for the compiler's vector loop to pay off.
/// `upper` means nothing when `non_ascii` is set.
#[inline]
pub fn scan_ascii_case(bytes: &[u8]) -> (bool, bool) {
    let (words, rest) = bytes.as_chunks::<8>();
    // The bytes after the last whole word: the last eight bytes of the
    // address again, overlapping (only which bytes occur matters), or the
    // few of a short one, one per byte of a word (the rest zero).
    let tail = match bytes.last_chunk::<8>() {
        Some(last) if !rest.is_empty() => u64::from_ne_bytes(*last),
        _ => rest.iter().fold(0, |word, &b| word << 8 | u64::from(b)),
    };
    let (mut any, mut upper) = (0, 0);
    for word in words
        .iter()
        .map(|&word| u64::from_ne_bytes(word))
        .chain([tail])
    {
        any |= word;
        // In each byte below 0x80 (no carry crosses into the next): adding
        // 0x3F sets the top bit from `A` up, adding 0x25 from `[` (after
        // `Z`) up. Zero bytes are neither.
        upper |= word.wrapping_add(ONES * 0x3F) & !word.wrapping_add(ONES * 0x25);
    }
    (any & HIGHS != 0, upper & HIGHS != 0)
}

/// True when `bytes` hold a quote, a backslash or a control character
/// (below U+0020): what JSON escapes. Eight bytes at a time, the last
/// eight (or the few there are, padded) as one more word rather than byte
/// by byte — this looks at every address of every diagnostic.
#[inline]
pub fn needs_escape(bytes: &[u8]) -> bool {
    let special = |w: u64| {
        below(w, 0x20)
            | below(w ^ (ONES * u64::from(b'"')), 1)
            | below(w ^ (ONES * u64::from(b'\\')), 1)
    };
    any_word(bytes, special)
}

/// True when `text` holds a control character (Unicode category Cc:
/// U+0000–U+001F and U+007F–U+009F) other than a tab — what
/// `text.chars().any(|c| c.is_control() && c != '\t')` answers, for the
/// merge values of every row (the lint asks it of each value a header
/// renders). In UTF-8 such a character is a byte below 0x20, 0x7F, or
/// 0xC2 followed by 0x80–0x9F: eight bytes at a time, a word with none of
/// the bytes below 0x20, 0x7F and 0xC2 is passed over, and a text with one
/// is looked at character by character (a tab or a `é` lead byte is not
/// a control character).
#[inline]
pub fn has_control_char(text: &str) -> bool {
    let bytes = text.as_bytes();
    let equal = |w: u64, b: u8| below(w ^ (ONES * u64::from(b)), 1);
    let suspect = |w: u64| below(w, 0x20) | equal(w, 0x7f) | equal(w, 0xc2);
    any_word(bytes, suspect) && text.chars().any(|c| c.is_control() && c != '\t')
}

/// A byte's high bit, set where the byte of `w` is below `n` (n ≤ 0x80;
/// bytes of 0x80 and above never count): the classic bit trick, exact as
/// to whether any byte is.
#[inline]
fn below(w: u64, n: u8) -> u64 {
    w.wrapping_sub(ONES * u64::from(n)) & !w & HIGHS
}

/// Whether `test` sets a high bit in any eight-byte word of `bytes`
/// (little-endian). The bytes after the last whole word are tested as the
/// last eight bytes again (overlapping words already seen: only whether a
/// byte occurs matters), or, in a text shorter than eight, padded with
/// spaces, which neither caller's `test` flags.
#[inline]
fn any_word(bytes: &[u8], test: impl Fn(u64) -> u64) -> bool {
    let (words, rest) = bytes.as_chunks::<8>();
    let mut found = 0;
    for word in words {
        found |= test(u64::from_le_bytes(*word));
    }
    if !rest.is_empty() {
        let last = match bytes.last_chunk::<8>() {
            Some(last) => *last,
            None => {
                let mut padded = [b' '; 8];
                padded[..rest.len()].copy_from_slice(rest);
                padded
            }
        };
        found |= test(u64::from_le_bytes(last));
    }
    found != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slow(text: &str) -> bool {
        text.chars().any(|c| c.is_control() && c != '\t')
    }

    #[test]
    fn has_control_char_is_the_char_test() {
        // Every character below U+0800 (all of one and two bytes, where the
        // control characters are) and a few beyond, alone and at each
        // position of texts of 1 to 20 bytes.
        let chars = (0..0x800u32)
            .chain([0x2028, 0x200b, 0xfeff, 0xfffd, 0x1f600])
            .filter_map(char::from_u32);
        for c in chars {
            for len in 0..20 {
                for at in [0, len / 2, len] {
                    let mut text: String = "Jansen-de Vries Zoë".chars().take(len).collect();
                    let at = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
                    text.insert(at, c);
                    assert_eq!(has_control_char(&text), slow(&text), "{text:?}");
                }
            }
        }
        assert!(!has_control_char(""));
        assert!(!has_control_char("a\tb"));
        assert!(has_control_char("a\u{85}b"), "NEL, a C1 control");
        assert!(has_control_char("a\rb"));
        assert!(!has_control_char("Geïnteresseerd in één ¿"));
    }
}

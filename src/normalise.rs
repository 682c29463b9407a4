//! How names are compared: product names (`[products]`, `purchased`,
//! `consent_scope`, `--product`), CSV header names and the words a detector
//! looks for. One module, so that two places can never disagree about
//! whether two names are the same (a product `Crème` grouped as `CRÈME` once
//! was in a group for the judge and in none for `unknown-product`).
//!
//! Folding is lower-casing plus removing accents: Latin letters become
//! their ASCII base (`é` → `e`, `ß` → `ss`, `ø` → `o`, `ł` → `l`) by the
//! transliteration table of the `deunicode` crate; letters of other scripts
//! (Greek, Cyrillic) lose their combining marks by the canonical
//! decomposition of `unicode-normalization`, and are not transliterated:
//! that would make unrelated words equal.

/// Appends `c` folded: lower case, without accents and other diacritics.
/// A Latin letter becomes its ASCII base (`é` → `e`, `ł` → `l`, `ß` → `ss`,
/// `þ` → `th`, by `deunicode`'s table); a letter of another script loses
/// its combining marks (Greek tonos, Cyrillic `й` → `и`, by canonical
/// decomposition) but keeps its script; a final sigma is a sigma.
pub fn push_folded(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    for c in c.to_lowercase() {
        if c.is_ascii() {
            out.push(c);
        } else if is_combining_mark(c) {
        } else if c == 'ς' {
            out.push('σ');
        } else if is_latin_letter(c) {
            match deunicode::deunicode_char(c) {
                Some(ascii) if ascii.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    out.extend(ascii.chars().map(|c| c.to_ascii_lowercase()));
                }
                _ => out.push(c),
            }
        } else {
            unicode_normalization::char::decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    out.push(d);
                }
            });
        }
    }
}

/// `text` folded: see [`push_folded`].
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_folded(c, &mut out);
    }
    out
}

/// The key a product name is compared by: trimmed and folded, so
/// `" Crème "`, `"CRÈME"` and `"creme"` are one product. An ASCII name's
/// key is the name lower-cased (the judge's quick path relies on it).
pub fn product_key(name: &str) -> String {
    fold(trim(name))
}

/// Whether two product names name the same product.
pub fn same_product(a: &str, b: &str) -> bool {
    let (a, b) = (trim(a), trim(b));
    if a.is_ascii() && b.is_ascii() {
        return a.eq_ignore_ascii_case(b);
    }
    fold(a) == fold(b)
}

/// The key a CSV header is compared by (SPEC §1.2): folded, without
/// white space, `-` and `_` (and a stray BOM).
pub fn header_key(header: &str) -> String {
    let mut key = String::with_capacity(header.len());
    for c in header.chars() {
        if !matches!(c, '-' | '_' | '\u{FEFF}') && !c.is_whitespace() {
            push_folded(c, &mut key);
        }
    }
    key
}

/// True when two header names match (SPEC §1.2: case-insensitively,
/// ignoring spaces, `-` and `_`).
pub fn same_header(a: &str, b: &str) -> bool {
    header_key(a) == header_key(b)
}

/// A header's letters and digits only, folded (`Health-Status (2024)` →
/// `healthstatus2024`): what a column's name is searched for words in.
pub fn header_letters(header: &str) -> String {
    header_key(header)
        .chars()
        .filter(|c| c.is_alphanumeric())
        .collect()
}

/// `str::trim`, with a quick answer for the usual cell, which neither
/// starts nor ends with white space (cells are trimmed on every read).
///
/// Inlined, so the usual cell (or an empty one) costs a test or two at the
/// caller; anything else (white space or a non-ASCII byte at either end)
/// goes to [`trim_slow`].
#[inline]
pub fn trim(value: &str) -> &str {
    // Visible ASCII (`!` to DEL): never white space, and never part of a
    // multi-byte character. One subtraction and compare per byte.
    let visible = |b: u8| b.wrapping_sub(b'!') <= 0x7f - b'!';
    match value.as_bytes() {
        [] => value,
        [first, .., last] | [first @ last] if visible(*first) && visible(*last) => value,
        _ => trim_slow(value),
    }
}

/// [`trim`] for a value that is empty or has something other than visible
/// ASCII at an end.
#[cold]
#[inline(never)]
fn trim_slow(value: &str) -> &str {
    let space = |c: Option<char>| c.is_some_and(char::is_whitespace);
    if space(value.chars().next()) || space(value.chars().next_back()) {
        value.trim()
    } else {
        value
    }
}

fn is_latin_letter(c: char) -> bool {
    c.is_alphabetic()
        && matches!(u32::from(c), 0x00C0..=0x024F | 0x1E00..=0x1EFF | 0x2C60..=0x2C7F | 0xA720..=0xA7FF)
}

fn is_combining_mark(c: char) -> bool {
    matches!(u32::from(c), 0x0300..=0x036F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_removes_latin_accents_and_case() {
        assert_eq!(fold("Crème Brûlée"), "creme brulee");
        assert_eq!(fold("STRAßE"), "strasse");
        assert_eq!(fold("Æble Øl Łódź"), "aeble ol lodz");
        // `e` and a combining grave accent: what some keyboards write.
        assert_eq!(fold("Cre\u{300}me"), "creme");
        // The opt-out vocabulary's words, as languages write them.
        assert_eq!(fold("Désinscrire"), "desinscrire");
        assert_eq!(fold("ABBESTELLEN Straße"), "abbestellen strasse");
        assert_eq!(fold("Wypisz się"), "wypisz sie");
        assert_eq!(fold("ÇIKIN İptal"), "cikin iptal");
        assert_eq!(fold("ħassar"), "hassar");
        assert_eq!(fold("Απεγγραφή"), "απεγγραφη");
    }

    #[test]
    fn other_scripts_lose_their_accents_but_keep_their_letters() {
        assert_eq!(fold("ОТПИСАТЬСЯ"), "отписаться");
        assert_eq!(fold("Ωμέγα"), "ωμεγα");
        assert_eq!(fold("ЙОГУРТ"), "иогурт");
        assert_eq!(fold("配信停止"), "配信停止");
        assert_eq!(fold("× ÷ €"), "× ÷ €");
    }

    #[test]
    fn product_names_match_whatever_their_case_and_accents() {
        assert!(same_product("Crème", "CRÈME"));
        assert!(same_product(" Crème ", "creme"));
        assert!(same_product("Yoghurt", "yoghurt "));
        assert!(!same_product("Crème", "Cream"));
        assert_eq!(product_key(" CRÈME "), "creme");
        assert_eq!(product_key("Yoghurt"), "yoghurt");
    }

    #[test]
    fn an_ascii_product_key_is_the_name_lower_cased() {
        for name in ["Kaas", "KAAS", " kaas ", "Boek-2"] {
            assert_eq!(product_key(name), name.trim().to_ascii_lowercase());
        }
    }

    #[test]
    fn headers_match_ignoring_case_spaces_dashes_and_accents() {
        assert!(same_header("E-Mail", "email"));
        assert!(same_header("\u{FEFF}Consent Date", "consent_date"));
        assert!(same_header("Datum Aankoop", "datum_aankoop"));
        assert!(same_header("Catégorie", "categorie"));
        assert!(!same_header("e.mail", "email"));
        assert_eq!(header_letters("Health-Status (2024)"), "healthstatus2024");
    }
}

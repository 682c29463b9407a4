//! Did-you-mean: the known name closest to a mistyped one, for the messages
//! about unknown keys, rules, columns and template variables.

/// The entry of `known` nearest to `name` (Damerau–Levenshtein), if it is
/// near enough to be a likely typo: at most 2 edits, or a quarter of the
/// known name's length for long names.
///
/// A name whose length differs from a known one by more edits than allowed
/// is not compared with it at all (the distance is at least the difference
/// in length): the comparison costs the product of the two lengths, and a
/// header of a megabyte was compared with every alias.
pub fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    let length = name.chars().count();
    known
        .iter()
        .filter(|k| length.abs_diff(k.chars().count()) <= allowed(k))
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= allowed(k))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// The edits a typo of `known` may have.
fn allowed(known: &str) -> usize {
    2.max(known.len() / 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_typo_gets_the_nearest_name_and_a_stranger_none() {
        let known = ["recipients", "draft", "suppression"];
        assert_eq!(suggest("recipent", &known), Some("recipients"));
        assert_eq!(suggest("drfat", &known), Some("draft"));
        assert_eq!(suggest("banana", &known), None);
    }

    #[test]
    fn names_of_very_different_length_are_never_near() {
        // (A header of a megabyte was compared with every alias, seconds
        // each; tests/scaling.rs times the long header now.)
        let long = "x".repeat(1 << 20);
        assert_eq!(suggest(&long, &["email", "first_name", "consent_at"]), None);
        let forty = "x".repeat(40);
        assert_eq!(suggest("emial", &["email", &forty]), Some("email"));
        assert_eq!(suggest(&"x".repeat(37), &[&forty]), Some(forty.as_str()));
    }
}

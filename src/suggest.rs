//! Did-you-mean: the known name closest to a mistyped one, for the messages
//! about unknown keys, rules, columns and template variables.

/// The entry of `known` nearest to `name` (Damerau–Levenshtein), if it is
/// near enough to be a likely typo: at most 2 edits, or a quarter of the
/// known name's length for long names.
pub fn suggest<'k>(name: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(name, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
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
}

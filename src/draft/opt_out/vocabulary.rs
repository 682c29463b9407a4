//! The words an opt-out is said with, read once from the data files in
//! `languages/` (one TOML file per language; their README says how to add a
//! phrase), and the matching of those phrases against text.
//!
//! Text is matched as tokens of folded text ([`fold_char`]): lower case,
//! accents removed, split at anything that is not a letter or digit. A token
//! that looks like code (`err_unsubscribe_event`, `unsubscribeUser`,
//! `client.unsubscribe()`) never matches, so identifiers in a patch or a
//! stack trace do not count as an instruction. Phrases never run across
//! clause punctuation (`.`, `?`, `,`, `|`, …).

use std::collections::{HashMap, HashSet};
use std::sync::OnceLock;

use serde::Deserialize;

/// The language files, by ISO 639-1 code (`pt-br` for Brazilian Portuguese)
/// and `lists` for the words of mailing-list managers and URLs.
pub(crate) const FILES: &[(&str, &str)] = &[
    ("bg", include_str!("languages/bg.toml")),
    ("ca", include_str!("languages/ca.toml")),
    ("cs", include_str!("languages/cs.toml")),
    ("da", include_str!("languages/da.toml")),
    ("de", include_str!("languages/de.toml")),
    ("el", include_str!("languages/el.toml")),
    ("en", include_str!("languages/en.toml")),
    ("es", include_str!("languages/es.toml")),
    ("et", include_str!("languages/et.toml")),
    ("fi", include_str!("languages/fi.toml")),
    ("fr", include_str!("languages/fr.toml")),
    ("ga", include_str!("languages/ga.toml")),
    ("hr", include_str!("languages/hr.toml")),
    ("hu", include_str!("languages/hu.toml")),
    ("is", include_str!("languages/is.toml")),
    ("it", include_str!("languages/it.toml")),
    ("lt", include_str!("languages/lt.toml")),
    ("lv", include_str!("languages/lv.toml")),
    ("mt", include_str!("languages/mt.toml")),
    ("nl", include_str!("languages/nl.toml")),
    ("no", include_str!("languages/no.toml")),
    ("pl", include_str!("languages/pl.toml")),
    ("pt", include_str!("languages/pt.toml")),
    ("pt-br", include_str!("languages/pt-br.toml")),
    ("ro", include_str!("languages/ro.toml")),
    ("sk", include_str!("languages/sk.toml")),
    ("sl", include_str!("languages/sl.toml")),
    ("sv", include_str!("languages/sv.toml")),
    ("tr", include_str!("languages/tr.toml")),
    ("lists", include_str!("languages/lists.toml")),
];

/// One language file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LanguageFile {
    /// The file's language code (must match its file name).
    #[cfg_attr(not(test), allow(dead_code))]
    pub language: String,
    /// The language's own name, for people.
    #[allow(dead_code)]
    pub name: String,
    /// Phrases that say "stop this mailing" (unsubscribe, no longer receive,
    /// manage preferences, leave the list).
    #[serde(default)]
    pub phrases: Vec<String>,
    /// Phrases that are a way to act without a link or address: "reply",
    /// "log in".
    #[serde(default)]
    pub mechanisms: Vec<String>,
    /// Words that, one or two words before a phrase, deny it.
    #[serde(default)]
    pub negations: Vec<String>,
    /// Phrases that report an opt-out already done ("you have been
    /// removed from the list"): a sentence with one offers none.
    #[serde(default)]
    pub done_phrases: Vec<String>,
    /// Offers to subscribe again ("you can subscribe again"): made only
    /// after an opt-out is done, so the opt-out wording next to one reports
    /// it rather than offering it.
    #[serde(default)]
    pub resubscribe_phrases: Vec<String>,
    /// The words of a link that says only "click here".
    #[serde(default)]
    pub link_words: Vec<String>,
    /// Phrases of the line that starts a forwarded or quoted message
    /// ("Forwarded message", "Original Message").
    #[serde(default)]
    pub forward_markers: Vec<String>,
    /// Phrases that say opt-out only inside a URL or an e-mail address
    /// (`listinfo`, `leave`).
    #[serde(default)]
    pub address_phrases: Vec<String>,
    /// Phrases that say opt-out in the local part of an e-mail address
    /// (`dev-leave@`).
    #[serde(default)]
    pub local_part_phrases: Vec<String>,
    /// Names of the headers a mail client writes above a quoted message
    /// (`From`, `Sent`, `Von`, `Gesendet`).
    #[serde(default)]
    pub reply_headers: Vec<String>,
    /// Sentences with the answer the detector must give.
    #[cfg_attr(not(test), allow(dead_code))]
    #[serde(default)]
    pub examples: Vec<Example>,
}

/// A checked example of a language file.
#[cfg_attr(not(test), allow(dead_code))]
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Example {
    /// The body part (plain text, or HTML when `html = true`).
    pub text: String,
    /// Whether a reader of that part has a way out.
    pub opt_out: bool,
    #[serde(default)]
    pub html: bool,
}

/// Every language's phrases merged, matched per kind.
pub(crate) struct Vocabulary {
    pub phrases: Matcher,
    pub done_phrases: Matcher,
    pub resubscribe_phrases: Matcher,
    pub mechanisms: Matcher,
    pub forward_markers: Matcher,
    pub address_phrases: Matcher,
    pub local_part_phrases: Matcher,
    negations: Vec<String>,
    link_words: HashSet<String>,
    reply_headers: HashSet<String>,
}

/// The vocabulary of all files, parsed once.
pub(crate) fn vocabulary() -> &'static Vocabulary {
    static VOCABULARY: OnceLock<Vocabulary> = OnceLock::new();
    VOCABULARY.get_or_init(|| {
        let mut v = Vocabulary {
            phrases: Matcher::default(),
            done_phrases: Matcher::default(),
            resubscribe_phrases: Matcher::default(),
            mechanisms: Matcher::default(),
            forward_markers: Matcher::default(),
            address_phrases: Matcher::default(),
            local_part_phrases: Matcher::default(),
            negations: Vec::new(),
            link_words: HashSet::new(),
            reply_headers: HashSet::new(),
        };
        for (code, text) in FILES {
            // The files are part of the program and tested
            // (`every_language_file_parses`); a broken one loses its words
            // rather than the whole lint.
            let Ok(file) = toml::from_str::<LanguageFile>(text) else {
                debug_assert!(false, "languages/{code}.toml does not parse");
                continue;
            };
            v.phrases.extend(&file.phrases);
            v.done_phrases.extend(&file.done_phrases);
            v.resubscribe_phrases.extend(&file.resubscribe_phrases);
            v.mechanisms.extend(&file.mechanisms);
            v.forward_markers.extend(&file.forward_markers);
            v.address_phrases.extend(&file.address_phrases);
            v.local_part_phrases.extend(&file.local_part_phrases);
            v.negations
                .extend(file.negations.iter().flat_map(|n| words_of(n)));
            v.link_words
                .extend(file.link_words.iter().flat_map(|n| words_of(n)));
            v.reply_headers
                .extend(file.reply_headers.iter().map(|n| words_of(n).join(" ")));
        }
        v
    })
}

impl Vocabulary {
    /// Whether `tokens[p]` is preceded, one or two words before, by a
    /// negation ("never unsubscribe", "niet afmelden").
    pub fn negated(&self, tokens: &[Token], p: usize) -> bool {
        tokens[p.saturating_sub(2)..p]
            .iter()
            .any(|t| self.negations.contains(&t.text))
    }

    /// Whether some clause of `text` holds a phrase of `matcher` that no
    /// negation denies.
    pub fn says(&self, matcher: &Matcher, text: &str) -> bool {
        let mut found = false;
        for_each_clause(text, |tokens| {
            if !found {
                found = (0..tokens.len())
                    .any(|p| matcher.matches_at(tokens, p) && !self.negated(tokens, p));
            }
        });
        found
    }

    /// Whether `line` is a header of the block above a quoted message
    /// (`From: …`, `*Gesendet:* …`).
    pub fn is_reply_header(&self, line: &str) -> bool {
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        let name = name.trim().trim_matches('*').trim();
        !name.is_empty()
            && name.len() <= 30
            && self.reply_headers.contains(&words_of(name).join(" "))
    }

    /// A sentence that is a "click here" for the sentence before it: it has
    /// a "click here" word and at most eight words ("Klik her for at ændre
    /// disse indstillinger").
    pub fn short_link_sentence(&self, text: &str) -> bool {
        let mut words = 0;
        let mut link_word = false;
        for_each_clause(text, |tokens| {
            words += tokens.len();
            link_word = link_word || tokens.iter().any(|t| self.link_words.contains(&t.text));
        });
        link_word && words <= 8
    }

    /// Says opt-out: a phrase of any language, in a sentence that does not
    /// report the opt-out as done.
    pub fn says_opt_out(&self, text: &str) -> bool {
        self.says(&self.phrases, text) && !self.says(&self.done_phrases, text)
    }

    /// Offers to subscribe again.
    pub fn offers_resubscription(&self, text: &str) -> bool {
        self.says(&self.resubscribe_phrases, text)
    }

    /// Names a mechanism: "reply", "log in".
    pub fn names_mechanism(&self, text: &str) -> bool {
        self.says(&self.mechanisms, text)
    }
}

/// One element of a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Element {
    /// Exactly this token.
    Word(String),
    /// A token starting with this (`abmeld*`: abmelden, Abmeldung).
    Prefix(String),
    /// Up to this many tokens of anything (`...`).
    Gap(usize),
}

/// How many tokens `...` may skip.
const GAP: usize = 4;

/// A set of phrases, indexed by their first word (or the first three
/// letters of a prefix) so that a token is compared with few of them.
#[derive(Default)]
pub(crate) struct Matcher {
    phrases: Vec<Vec<Element>>,
    by_word: HashMap<String, Vec<usize>>,
    by_prefix: HashMap<String, Vec<usize>>,
}

/// Prefixes are indexed by this many characters; a shorter prefix is a
/// mistake in a language file (the tests say so).
pub(crate) const MIN_PREFIX: usize = 3;

impl Matcher {
    fn extend(&mut self, phrases: &[String]) {
        for phrase in phrases {
            let elements = parse_phrase(phrase);
            let index = self.phrases.len();
            match elements.first() {
                Some(Element::Word(w)) => self.by_word.entry(w.clone()).or_default().push(index),
                Some(Element::Prefix(p)) if p.chars().count() >= MIN_PREFIX => self
                    .by_prefix
                    .entry(p.chars().take(MIN_PREFIX).collect())
                    .or_default()
                    .push(index),
                _ => continue,
            }
            self.phrases.push(elements);
        }
    }

    /// Whether a phrase starts at `tokens[p]`.
    pub fn matches_at(&self, tokens: &[Token], p: usize) -> bool {
        let token = &tokens[p];
        if token.code {
            return false;
        }
        let by_word = self.by_word.get(&token.text).into_iter().flatten();
        let key: String = token.text.chars().take(MIN_PREFIX).collect();
        let by_prefix = self.by_prefix.get(&key).into_iter().flatten();
        by_word
            .chain(by_prefix)
            .any(|&i| elements_match(&self.phrases[i], tokens, p))
    }

    /// Whether a phrase occurs anywhere in `tokens` (no negation check).
    pub fn occurs_in(&self, tokens: &[Token]) -> bool {
        (0..tokens.len()).any(|p| self.matches_at(tokens, p))
    }
}

fn element_matches(element: &Element, token: &Token) -> bool {
    !token.code
        && match element {
            Element::Word(w) => token.text == *w,
            Element::Prefix(p) => token.text.starts_with(p.as_str()),
            Element::Gap(_) => false,
        }
}

/// Matches `elements` at `tokens[p..]`; a gap tries each length, shortest
/// first (phrases are short, so this stays cheap).
fn elements_match(elements: &[Element], tokens: &[Token], p: usize) -> bool {
    match elements.split_first() {
        None => true,
        Some((Element::Gap(n), rest)) => {
            (0..=*n).any(|skip| p + skip <= tokens.len() && elements_match(rest, tokens, p + skip))
        }
        Some((element, rest)) => {
            p < tokens.len()
                && element_matches(element, &tokens[p])
                && elements_match(rest, tokens, p + 1)
        }
    }
}

/// A phrase as written in a language file: words separated by spaces (and
/// by anything that separates tokens in text, so `e-mail` is `e mail`), a
/// word ending in `*` is a prefix, `...` is a gap of up to four words.
fn parse_phrase(phrase: &str) -> Vec<Element> {
    let mut elements = Vec::new();
    for part in phrase.split_whitespace() {
        if part == "..." {
            elements.push(Element::Gap(GAP));
            continue;
        }
        let (body, prefix) = match part.strip_suffix('*') {
            Some(body) => (body, true),
            None => (part, false),
        };
        let words = words_of(body);
        let last = words.len().saturating_sub(1);
        for (i, word) in words.into_iter().enumerate() {
            elements.push(if prefix && i == last {
                Element::Prefix(word)
            } else {
                Element::Word(word)
            });
        }
    }
    elements
}

/// The folded tokens of a phrase word (`e-mail` → `e`, `mail`).
fn words_of(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    for_each_clause(text, |tokens| {
        words.extend(tokens.iter().map(|t| t.text.clone()));
    });
    words
}

/// A token of text: folded, and whether it looks like code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Token {
    pub text: String,
    /// An identifier (`err_unsubscribe_event`, `unsubscribeAll`) or a
    /// method call (`.unsubscribe(`): never part of a phrase.
    pub code: bool,
}

/// Characters that end a clause: a phrase never runs across them.
fn ends_clause(c: char) -> bool {
    matches!(
        c,
        '.' | '!'
            | '?'
            | ';'
            | ':'
            | ','
            | '('
            | ')'
            | '['
            | ']'
            | '{'
            | '}'
            | '|'
            | '<'
            | '>'
            | '"'
            | '\n'
            | '\u{b7}'
            | '\u{2022}'
            | '\u{201c}'
            | '\u{201d}'
            | '\u{201e}'
            | '\u{ab}'
            | '\u{bb}'
            | '\u{a1}'
            | '\u{bf}'
    )
}

/// Calls `f` with the tokens of each clause of `text`, in order.
pub(crate) fn for_each_clause(text: &str, mut f: impl FnMut(&[Token])) {
    let mut tokens: Vec<Token> = Vec::new();
    let mut word = String::new();
    // Whether the current word has `_` or a lower-case letter followed by
    // an upper-case one (camelCase).
    let mut code = false;
    let mut previous_lower = false;
    // The character before the current word, and before the one before.
    let mut before = (' ', ' ');
    let mut last = (' ', ' ');
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            if word.is_empty() {
                before = last;
            }
            last = (last.1, c);
            if c == '_' || (previous_lower && c.is_uppercase()) {
                code = true;
            }
            previous_lower = c.is_lowercase();
            fold_char(c, &mut word);
            continue;
        }
        last = (last.1, c);
        if !word.is_empty() {
            // `name()`, or `object.name(…)`: a call.
            let member = before.1 == '.' && before.0.is_alphanumeric()
                || matches!(before, ('-', '>') | (':', ':'));
            if c == '(' && (member || chars.peek() == Some(&')')) {
                code = true;
            }
            tokens.push(Token {
                text: std::mem::take(&mut word),
                code,
            });
        }
        code = false;
        previous_lower = false;
        // `(un)subscribe`: a `)` inside a word does not end the clause.
        let inside_word = c == ')' && chars.peek().is_some_and(|n| n.is_alphanumeric());
        if ends_clause(c) && !inside_word && !tokens.is_empty() {
            f(&tokens);
            tokens.clear();
        }
    }
    if !word.is_empty() {
        tokens.push(Token { text: word, code });
    }
    if !tokens.is_empty() {
        f(&tokens);
    }
}

/// Folds one character for matching: [`crate::normalise::push_folded`]
/// (lower case, accents and other diacritics removed: `é` → `e`, `ł` → `l`,
/// `ß` → `ss`, Greek tonos dropped, `ς` → `σ`); apostrophes are dropped by
/// the caller as separators.
pub(crate) fn fold_char(c: char, out: &mut String) {
    crate::normalise::push_folded(c, out);
}

#[cfg(test)]
mod tests {
    use super::super::{html_has_opt_out, text_has_opt_out};
    use super::*;

    fn files() -> Vec<(&'static str, LanguageFile)> {
        FILES
            .iter()
            .map(|(code, text)| {
                let file = toml::from_str::<LanguageFile>(text)
                    .unwrap_or_else(|e| panic!("languages/{code}.toml: {e}"));
                (*code, file)
            })
            .collect()
    }

    #[test]
    fn every_language_file_parses_and_names_its_language() {
        for (code, file) in files() {
            assert_eq!(file.language, code, "languages/{code}.toml");
        }
    }

    #[test]
    fn every_official_eu_language_and_the_others_have_a_file() {
        let codes: Vec<&str> = FILES.iter().map(|(c, _)| *c).collect();
        for code in [
            "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it",
            "lt", "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "no", "is", "tr", "pt-br",
        ] {
            assert!(codes.contains(&code), "no languages/{code}.toml");
        }
    }

    #[test]
    fn prefixes_are_long_enough_to_index() {
        for (code, file) in files() {
            for phrase in file
                .phrases
                .iter()
                .chain(&file.address_phrases)
                .chain(&file.done_phrases)
                .chain(&file.resubscribe_phrases)
                .chain(&file.mechanisms)
            {
                if let Some(Element::Prefix(p)) = parse_phrase(phrase).first() {
                    assert!(
                        p.chars().count() >= MIN_PREFIX,
                        "languages/{code}.toml: `{phrase}` starts with a prefix shorter than \
                         {MIN_PREFIX} letters"
                    );
                }
                assert!(
                    !matches!(parse_phrase(phrase).first(), Some(Element::Gap(_)) | None),
                    "languages/{code}.toml: `{phrase}` must start with a word"
                );
            }
        }
    }

    /// Each language file's own examples: the test a native speaker adds
    /// with a phrase.
    #[test]
    fn every_language_file_example_is_judged_as_it_says() {
        let mut wrong = Vec::new();
        for (code, file) in files() {
            assert!(
                !file.examples.is_empty(),
                "languages/{code}.toml has no example"
            );
            for example in &file.examples {
                let found = if example.html {
                    html_has_opt_out(&example.text)
                } else {
                    text_has_opt_out(&example.text)
                };
                if found != example.opt_out {
                    wrong.push(format!(
                        "languages/{code}.toml: expected opt_out = {} for {:?}",
                        example.opt_out, example.text
                    ));
                }
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn code_identifiers_are_no_words() {
        let mut tokens = Vec::new();
        for_each_clause(
            "if err_unsubscribe_event or unsubscribeAll or client.unsubscribe(x) or stop()",
            |t| tokens.extend(t.iter().cloned()),
        );
        let code: Vec<&str> = tokens
            .iter()
            .filter(|t| t.code)
            .map(|t| t.text.as_str())
            .collect();
        assert_eq!(
            code,
            [
                "err_unsubscribe_event",
                "unsubscribeall",
                "unsubscribe",
                "stop"
            ]
        );
    }
}

//! The header names of each logical field (SPEC §1.2: the field's own
//! name and its aliases), compared case-insensitively and ignoring spaces,
//! `-` and `_`.

use crate::recipients::Field;

/// Header aliases of SPEC §1.2, besides each field's own name.
pub(super) const ALIASES: &[(&str, Field)] = &[
    ("e-mail", Field::Email),
    ("email address", Field::Email),
    ("emailadres", Field::Email),
    ("e-mailadres", Field::Email),
    ("first name", Field::FirstName),
    ("voornaam", Field::FirstName),
    ("last name", Field::LastName),
    ("achternaam", Field::LastName),
    ("naam", Field::Name),
    ("klant", Field::Customer),
    ("products", Field::Purchased),
    ("gekocht", Field::Purchased),
    ("aankopen", Field::Purchased),
    ("producten", Field::Purchased),
    ("last purchase", Field::LastPurchaseAt),
    ("laatste aankoop", Field::LastPurchaseAt),
    ("consent", Field::ConsentAt),
    ("consent date", Field::ConsentAt),
    ("optin time", Field::ConsentAt),
    ("toestemming", Field::ConsentAt),
    ("consent source", Field::ConsentSource),
    ("optin source", Field::ConsentSource),
    ("bron toestemming", Field::ConsentSource),
    ("consent scope", Field::ConsentScope),
    ("toestemming voor", Field::ConsentScope),
    ("list source", Field::ListSource),
    ("source", Field::ListSource),
    ("herkomst", Field::ListSource),
    ("bron", Field::ListSource),
    ("unsubscribed", Field::UnsubscribedAt),
    ("unsub time", Field::UnsubscribedAt),
    ("afgemeld", Field::UnsubscribedAt),
];

/// True when two header names match (SPEC §1.2: case-insensitively,
/// ignoring spaces, `-` and `_`).
pub(super) fn normalized_eq(a: &str, b: &str) -> bool {
    crate::normalise::same_header(a, b)
}

/// The logical field a header that maps to none looks like a misspelling
/// of (`Emial`, `Toestemmingdatum`, `Laatste_aankoopp`), by its own name
/// or an alias: for a did-you-mean that suggests the `[columns]` line.
pub fn likely_field(header: &str) -> Option<Field> {
    let key = crate::normalise::header_key(header);
    let names: Vec<(String, Field)> = Field::ALL
        .into_iter()
        .map(|f| (crate::normalise::header_key(f.name()), f))
        .chain(
            ALIASES
                .iter()
                .map(|&(alias, f)| (crate::normalise::header_key(alias), f)),
        )
        .collect();
    let keys: Vec<&str> = names.iter().map(|(k, _)| k.as_str()).collect();
    let near = crate::suggest::suggest(&key, &keys)?;
    names.iter().find(|(k, _)| k == near).map(|&(_, f)| f)
}

/// The field a header names by alias or by the field's own name.
pub(super) fn field_for_header(header: &str) -> Option<Field> {
    Field::ALL
        .into_iter()
        .find(|f| normalized_eq(header, f.name()))
        .or_else(|| {
            ALIASES
                .iter()
                .find(|(alias, _)| normalized_eq(header, alias))
                .map(|&(_, f)| f)
        })
}

/// The field a listmonk attribute key names: only the field's own name
/// (compared like headers), not the header aliases — an attribute called
/// `source` is somebody's own data, not the list's provenance.
pub(in crate::recipients) fn field_for_attribute(key: &str) -> Option<Field> {
    Field::ALL
        .into_iter()
        .find(|f| normalized_eq(key, f.name()))
}

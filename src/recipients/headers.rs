//! Header mapping: aliases, `[columns]` overrides, snake_case variable names,
//! and recognition of the Mailchimp and listmonk exports.

use std::collections::{HashMap, HashSet};

use super::Field;

/// Which known export the header was recognised as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Any other CSV: columns map by alias or `[columns]` only.
    Plain,
    /// A Mailchimp audience export (`Email Address`, `OPTIN_TIME`,
    /// `CONFIRM_TIME`, …): consent is derived from its opt-in record.
    Mailchimp,
    /// A listmonk subscriber export (`uuid`, `email`, `name`, `attributes`,
    /// `status`, …): fields may come from the `attributes` JSON.
    Listmonk,
}

/// One column of the CSV.
#[derive(Clone, Debug)]
pub struct Column {
    /// 0-based position in the record.
    pub index: usize,
    /// The header as written in the file.
    pub header: String,
    /// The template variable name: the logical field's name when the column
    /// maps to one, otherwise the header in snake_case.
    pub var: String,
    /// For a column that maps to a logical field, its header in snake_case
    /// as a second variable name (`Voornaam` is `first_name` and
    /// `voornaam`), when that differs from `var` and no other column has it.
    pub header_var: Option<String>,
    /// The logical field the column maps to, if any.
    pub field: Option<Field>,
}

/// The header of a recipient CSV, mapped.
///
/// Usually one column holds a field. A preset may derive one field from
/// several columns; they all carry that field (and its name as `var`):
/// Mailchimp's `CONFIRM_TIME` and `OPTIN_TIME` are `consent_at`, its
/// `CONFIRM_IP` and `OPTIN_IP` are `consent_source`. listmonk's `status`
/// column is `unsubscribed_at` (it is `blocklisted` or not).
#[derive(Clone, Debug)]
pub struct ColumnMap {
    pub columns: Vec<Column>,
    /// The export the header was recognised as, found once: asked for
    /// every column, it was found again each time (4,000 columns took a
    /// minute).
    preset: Preset,
}

impl ColumnMap {
    /// The header (as written in the file) of the column that holds `field`,
    /// if one does.
    ///
    /// For a preset field derived from several columns, the one that takes
    /// precedence: Mailchimp's `CONFIRM_TIME` over `OPTIN_TIME` for
    /// `consent_at`, `CONFIRM_IP` over `OPTIN_IP` for `consent_source` (and,
    /// in an export without IP columns, the `consent_at` column, since the
    /// source is then just "mailchimp" recorded with that time). For a
    /// listmonk export, a field no column holds may come from the JSON, so
    /// it is `attributes`.
    pub fn header_of(&self, field: Field) -> Option<&str> {
        if let Some(column) = self.column(field) {
            return Some(&column.header);
        }
        match (self.preset(), field) {
            (Preset::Mailchimp, Field::ConsentSource) => self.header_of(Field::ConsentAt),
            (Preset::Listmonk, _) => self
                .columns
                .iter()
                .find(|c| normalized_eq(&c.header, "attributes"))
                .map(|c| c.header.as_str()),
            _ => None,
        }
    }

    /// True when some column (or preset source) provides `field`.
    pub fn has(&self, field: Field) -> bool {
        self.header_of(field).is_some()
    }

    /// The column that holds `field` (see [`ColumnMap::header_of`] for which
    /// one when a preset derives it from several). `None` when the field
    /// comes from no column, including a listmonk attribute.
    pub fn column(&self, field: Field) -> Option<&Column> {
        let mut best: Option<&Column> = None;
        for column in self.columns.iter().filter(|c| c.field == Some(field)) {
            match best {
                Some(b) if precedence(&b.header) >= precedence(&column.header) => {}
                _ => best = Some(column),
            }
        }
        best
    }

    /// Which export the header is, recognised from the header names alone.
    pub fn preset(&self) -> Preset {
        self.preset
    }

    /// Whether `column` is one of an export's own bookkeeping columns
    /// (Mailchimp's `MEMBER_RATING`, `LEID`, `TAGS`, …) rather than the
    /// sender's data.
    pub fn is_bookkeeping(&self, column: &Column) -> bool {
        self.preset() == Preset::Mailchimp
            && column.field.is_none()
            && MAILCHIMP_BOOKKEEPING
                .iter()
                .any(|name| normalized_eq(&column.header, name))
    }

    /// Every template variable the columns provide, each once, in column
    /// order (a preset's shared field name appears once), then the mapped
    /// columns' header names. listmonk attributes are not included: see
    /// `RecipientReader::attribute_keys`.
    pub fn vars(&self) -> impl Iterator<Item = &str> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, c)| !self.columns[..*i].iter().any(|p| p.var == c.var))
            .map(|(_, c)| c.var.as_str())
            .chain(self.columns.iter().filter_map(|c| c.header_var.as_deref()))
    }

    /// The column a template variable names: by its `var` or `header_var`.
    pub fn column_of_var(&self, name: &str) -> Option<&Column> {
        self.columns
            .iter()
            .find(|c| c.var == name || c.header_var.as_deref() == Some(name))
    }
}

/// Mailchimp's confirmation (double opt-in) outranks its first opt-in.
fn precedence(header: &str) -> u8 {
    u8::from(normalized_eq(header, "confirmtime") || normalized_eq(header, "confirmip"))
}

/// Header aliases of SPEC §1.2, besides each field's own name.
const ALIASES: &[(&str, Field)] = &[
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
fn field_for_header(header: &str) -> Option<Field> {
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
pub(super) fn field_for_attribute(key: &str) -> Option<Field> {
    Field::ALL
        .into_iter()
        .find(|f| normalized_eq(key, f.name()))
}

fn detect_preset<'a>(headers: impl Iterator<Item = &'a str> + Clone) -> Preset {
    let has = |name: &str| headers.clone().any(|h| normalized_eq(h, name));
    if has("email address") && (has("optin time") || has("confirm time")) {
        Preset::Mailchimp
    } else if has("uuid") && has("email") && has("attributes") && has("status") {
        Preset::Listmonk
    } else {
        Preset::Plain
    }
}

/// The header mapped, and what the reader needs to resolve each row.
#[derive(Debug)]
pub(super) struct Mapping {
    pub columns: ColumnMap,
    pub preset: Preset,
    /// The column read as is for each field (by [`Field::index`]); `None`
    /// for a field that is absent or derived per row.
    pub plain: [Option<usize>; Field::ALL.len()],
    pub mailchimp: Option<Mailchimp>,
    pub listmonk: Option<Listmonk>,
}

/// The columns of a Mailchimp opt-in record, and which fields are derived
/// from them (not when `[columns]` or another column provides the field).
#[derive(Debug, Clone, Copy)]
pub(super) struct Mailchimp {
    pub confirm_time: Option<usize>,
    pub optin_time: Option<usize>,
    pub confirm_ip: Option<usize>,
    pub optin_ip: Option<usize>,
    pub derive_consent_at: bool,
    pub derive_consent_source: bool,
    /// `CLEAN_TIME`: non-empty when Mailchimp "cleaned" the address (it
    /// bounced).
    pub clean_time: Option<usize>,
}

/// Mailchimp's own bookkeeping columns (compared as headers are): what an
/// audience export carries besides the merge fields and the opt-in record.
/// No rule reads them; `unused-column` names them once, as a group, and
/// `national-id` never looks at their values (a `LEID` is a 9-digit number
/// that may pass the eleven-test by chance). The opt-in record's own
/// columns (`CONFIRM_TIME`, `OPTIN_IP`, …) and `CLEAN_TIME` are read.
const MAILCHIMP_BOOKKEEPING: &[&str] = &[
    "member rating",
    "latitude",
    "longitude",
    "gmtoff",
    "dstoff",
    "timezone",
    "cc",
    "region",
    "last changed",
    "leid",
    "euid",
    "notes",
    "tags",
    "unsub campaign title",
    "unsub campaign id",
    "unsub reason",
    "unsub reason other",
    "clean campaign title",
    "clean campaign id",
];

/// The columns of a listmonk export that hold more than a value.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listmonk {
    /// `status`, when it decides `unsubscribed_at`.
    pub status: Option<usize>,
    pub attributes: Option<usize>,
}

/// Maps a header line. `overrides` are the campaign's `[columns]` entries.
/// The error is the message for an `InputError` on the header line.
pub(super) fn map_header(
    headers: &[String],
    overrides: &[(Field, String)],
) -> Result<Mapping, String> {
    let find = |name: &str| headers.iter().position(|h| normalized_eq(h, name));
    let preset = detect_preset(headers.iter().map(String::as_str));
    let mut fields: Vec<Option<Field>> = vec![None; headers.len()];

    // Aliases: the first column naming a field holds it.
    let mut held = [false; Field::ALL.len()];
    for (i, header) in headers.iter().enumerate() {
        if let Some(field) = field_for_header(header)
            && !held[field.index()]
        {
            held[field.index()] = true;
            fields[i] = Some(field);
        }
    }

    let mut mailchimp = None;
    let mut listmonk = None;
    match preset {
        Preset::Plain => {}
        Preset::Mailchimp => {
            let mut m = Mailchimp {
                confirm_time: find("confirm time"),
                optin_time: find("optin time"),
                confirm_ip: find("confirm ip"),
                optin_ip: find("optin ip"),
                derive_consent_at: false,
                derive_consent_source: false,
                clean_time: find("clean time"),
            };
            let times = [m.confirm_time, m.optin_time];
            // OPTIN_TIME holds consent_at by alias; any other column doing so
            // (an added merge field) is the user's own record and wins.
            m.derive_consent_at = fields
                .iter()
                .enumerate()
                .all(|(i, f)| *f != Some(Field::ConsentAt) || times.contains(&Some(i)));
            if m.derive_consent_at {
                for i in times.into_iter().flatten() {
                    fields[i] = Some(Field::ConsentAt);
                }
            }
            m.derive_consent_source = !fields.contains(&Some(Field::ConsentSource));
            if m.derive_consent_source {
                for i in [m.confirm_ip, m.optin_ip].into_iter().flatten() {
                    if fields[i].is_none() {
                        fields[i] = Some(Field::ConsentSource);
                    }
                }
            }
            mailchimp = Some(m);
        }
        Preset::Listmonk => {
            let mut status = find("status");
            match status {
                Some(i) if !fields.contains(&Some(Field::UnsubscribedAt)) => {
                    fields[i] = Some(Field::UnsubscribedAt);
                }
                _ => status = None,
            }
            listmonk = Some(Listmonk {
                status,
                attributes: find("attributes"),
            });
        }
    }

    // `[columns]` overrides win over aliases and presets.
    let mut overridden = Vec::new();
    for (field, wanted) in overrides {
        let Some(i) = find(wanted) else {
            return Err(format!(
                "[columns] {field} = \"{wanted}\", but there is no column \"{wanted}\"; \
                 the headers are {}. Fix [columns] in the campaign file to name one of them",
                list_headers(headers),
            ));
        };
        if let Some((other, _)) = overrides
            .iter()
            .find(|(other, header)| other != field && normalized_eq(header, wanted))
        {
            return Err(format!(
                "[columns] maps both {field} and {other} to the column \"{}\"; a column can \
                 hold one field. Fix [columns] in the campaign file",
                headers[i],
            ));
        }
        for slot in fields.iter_mut().filter(|f| **f == Some(*field)) {
            *slot = None;
        }
        fields[i] = Some(*field);
        overridden.push(*field);
    }

    if !fields.contains(&Some(Field::Email)) {
        return Err(missing_email(headers));
    }

    // Two columns that both name a field (two `consent_at` columns, or
    // `consent` beside `consent date`): which one holds it is a guess that
    // decides verdicts, so it is the user's to make. An export preset that
    // combines two columns itself (Mailchimp's opt-in and confirm times)
    // is no such guess.
    for field in Field::ALL {
        if overridden.contains(&field)
            || (mailchimp.is_some() && matches!(field, Field::ConsentAt | Field::ConsentSource))
        {
            continue;
        }
        let mut naming = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| field_for_header(h) == Some(field));
        if let (Some((a, first)), Some((b, second))) = (naming.next(), naming.next()) {
            let shown = |h: &str| crate::escape::control_chars(h).into_owned();
            return Err(format!(
                "two columns hold {field}: \"{}\" (column {}) and \"{}\" (column {}); \
                 remove one, or choose it in the campaign file with [columns] {field} = \"…\"",
                shown(first),
                a + 1,
                shown(second),
                b + 1,
            ));
        }
    }

    if let Some(m) = &mut mailchimp {
        let times = [m.confirm_time, m.optin_time];
        m.derive_consent_at &= !overridden.contains(&Field::ConsentAt)
            && times
                .into_iter()
                .flatten()
                .any(|i| fields[i] == Some(Field::ConsentAt));
        m.derive_consent_source &= !overridden.contains(&Field::ConsentSource);
    }
    if let Some(l) = &mut listmonk
        && let Some(i) = l.status
        && fields[i] != Some(Field::UnsubscribedAt)
    {
        l.status = None;
    }

    let mut plain = [None; Field::ALL.len()];
    for field in Field::ALL {
        let derived = match field {
            Field::ConsentAt => mailchimp.is_some_and(|m| m.derive_consent_at),
            Field::ConsentSource => mailchimp.is_some_and(|m| m.derive_consent_source),
            Field::UnsubscribedAt => listmonk.is_some_and(|l| l.status.is_some()),
            _ => false,
        };
        if !derived {
            plain[field.index()] = fields.iter().position(|f| *f == Some(field));
        }
    }

    let columns = ColumnMap {
        columns: name_columns(headers, &fields),
        preset,
    };
    Ok(Mapping {
        columns,
        preset,
        plain,
        mailchimp,
        listmonk,
    })
}

/// Gives every column its template variable: the field's name, or the
/// header in snake_case, made unique with `_2`, `_3` … when two headers
/// come out the same. A column that maps to a field also gets its header
/// in snake_case, when that name is free (a field's name and an unmapped
/// column's name come first).
///
/// Linear in the number of columns: the names taken are a hash set, and each
/// base name remembers the suffix it got to (4,000 columns of one name took
/// 40 s when every suffix was tried again against a list of every name).
fn name_columns(headers: &[String], fields: &[Option<Field>]) -> Vec<Column> {
    let mut taken: HashSet<String> = fields
        .iter()
        .flatten()
        .map(|f| f.name().to_owned())
        .collect();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    let mut columns = Vec::with_capacity(headers.len());
    for (index, header) in headers.iter().enumerate() {
        let var = match fields[index] {
            Some(field) => field.name().to_owned(),
            None => {
                let base = snake_case(header, index);
                let mut var = base.clone();
                if taken.contains(&var) {
                    let n = next_suffix.entry(base.clone()).or_insert(2);
                    loop {
                        var = format!("{base}_{n}");
                        *n += 1;
                        if !taken.contains(&var) {
                            break;
                        }
                    }
                }
                taken.insert(var.clone());
                var
            }
        };
        columns.push(Column {
            index,
            header: header.clone(),
            var,
            header_var: None,
            field: fields[index],
        });
    }
    for column in columns.iter_mut().filter(|c| c.field.is_some()) {
        let name = snake_case(&column.header, column.index);
        if !taken.contains(&name) {
            taken.insert(name.clone());
            column.header_var = Some(name);
        }
    }
    columns
}

/// A header as a template variable: lower-case ASCII letters and digits,
/// everything else `_` (runs collapsed, none at the ends); common accented
/// letters lose their accent (`Geïnteresseerd` → `geinteresseerd`), since
/// template identifiers are ASCII. One starting with a digit gets `col_`
/// in front; an empty one is `column_<n>` (1-based).
pub(super) fn snake_case(header: &str, index: usize) -> String {
    let mut out = String::with_capacity(header.len());
    let mut push = |c: char| {
        if c == '_' {
            if !out.is_empty() && !out.ends_with('_') {
                out.push('_');
            }
        } else {
            out.push(c);
        }
    };
    let mut folded = String::with_capacity(4);
    for c in header.chars() {
        folded.clear();
        crate::normalise::push_folded(c, &mut folded);
        for c in folded.chars() {
            push(if c.is_ascii_alphanumeric() { c } else { '_' });
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    if out.is_empty() {
        format!("column_{}", index + 1)
    } else if out.starts_with(|c: char| c.is_ascii_digit()) {
        format!("col_{out}")
    } else {
        out
    }
}

/// `"A", "B", "C"` — at most 20, then a count of the rest.
pub(super) fn list_headers(headers: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut list = headers
        .iter()
        .take(SHOWN)
        .map(|h| format!("\"{}\"", shortened(h)))
        .collect::<Vec<_>>()
        .join(", ");
    if headers.len() > SHOWN {
        list.push_str(&format!(" and {} more", headers.len() - SHOWN));
    }
    list
}

/// A header as shown in a message: at most 60 characters (a header of a
/// megabyte would otherwise fill the screen).
fn shortened(header: &str) -> std::borrow::Cow<'_, str> {
    const SHOWN: usize = 60;
    match header.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{}…", &header[..cut]).into(),
        None => header.into(),
    }
}

fn missing_email(headers: &[String]) -> String {
    if let Some(address) = headers.iter().find(|h| h.contains('@')) {
        return format!(
            "the first line holds an address (\"{}\"), not a header; add a first line \
             naming the columns, e.g. `email`, or list the addresses under an `email` header",
            shortened(address)
        );
    }
    let guess = headers
        .iter()
        .find(|h| h.to_lowercase().contains("mail"))
        .or(headers.first())
        .map_or("…".into(), |h| shortened(h));
    format!(
        "no email column: none of the headers {} is email, e-mail, email address, emailadres \
         or e-mailadres. Name the address column in the campaign file: \
         [columns] email = \"{guess}\"",
        list_headers(headers),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(headers: &[&str]) -> Vec<String> {
        headers.iter().map(|h| (*h).to_owned()).collect()
    }

    fn map(headers: &[&str]) -> Mapping {
        map_header(&strings(headers), &[]).unwrap()
    }

    fn field_of(mapping: &Mapping, header: &str) -> Option<Field> {
        mapping
            .columns
            .columns
            .iter()
            .find(|c| c.header == header)
            .and_then(|c| c.field)
    }

    #[test]
    fn aliases_match_ignoring_case_spaces_dashes_and_underscores() {
        let m = map(&[
            "E-mailadres",
            "VOORNAAM",
            "Achter_Naam",
            "Laatste aankoop",
            "Bron-Toestemming",
            "consent_at",
            "Herkomst",
            "Afgemeld",
            "Klant",
            "Products",
        ]);
        assert_eq!(m.preset, Preset::Plain);
        assert_eq!(field_of(&m, "E-mailadres"), Some(Field::Email));
        assert_eq!(field_of(&m, "VOORNAAM"), Some(Field::FirstName));
        assert_eq!(field_of(&m, "Achter_Naam"), Some(Field::LastName));
        assert_eq!(field_of(&m, "Laatste aankoop"), Some(Field::LastPurchaseAt));
        assert_eq!(field_of(&m, "Bron-Toestemming"), Some(Field::ConsentSource));
        assert_eq!(field_of(&m, "consent_at"), Some(Field::ConsentAt));
        assert_eq!(field_of(&m, "Herkomst"), Some(Field::ListSource));
        assert_eq!(field_of(&m, "Afgemeld"), Some(Field::UnsubscribedAt));
        assert_eq!(field_of(&m, "Klant"), Some(Field::Customer));
        assert_eq!(field_of(&m, "Products"), Some(Field::Purchased));
        assert_eq!(m.plain[Field::Email.index()], Some(0));
        assert_eq!(
            m.columns.header_of(Field::ConsentSource),
            Some("Bron-Toestemming")
        );
        assert!(!m.columns.has(Field::ConsentScope));
    }

    #[test]
    fn two_consent_at_columns_were_read_as_the_first_silently() {
        let err = map_header(&strings(&["email", "consent_at", "Consent Date"]), &[]).unwrap_err();
        assert!(
            err.contains("two columns hold consent_at: \"consent_at\" (column 2) and \"Consent Date\" (column 3)"),
            "{err}"
        );
        assert!(err.contains("[columns] consent_at"), "{err}");
        let err = map_header(&strings(&["Email", "E-mail"]), &[]).unwrap_err();
        assert!(
            err.contains("\"Email\" (column 1) and \"E-mail\" (column 2)"),
            "{err}"
        );
        // [columns] chooses; the other column is a variable of its own.
        let m = map_header(
            &strings(&["email", "consent_at", "Consent Date"]),
            &[(Field::ConsentAt, "Consent Date".to_owned())],
        )
        .unwrap();
        assert_eq!(field_of(&m, "Consent Date"), Some(Field::ConsentAt));
        assert_eq!(field_of(&m, "consent_at"), None);
        let m = map(&["email", "Tel.", "tel"]);
        let vars: Vec<_> = m.columns.vars().collect();
        assert_eq!(vars, ["email", "tel", "tel_2"]);
    }

    #[test]
    fn a_misspelt_header_is_likely_its_field() {
        assert_eq!(likely_field("Emial"), Some(Field::Email));
        assert_eq!(
            likely_field("Laatste aankoopp"),
            Some(Field::LastPurchaseAt)
        );
        assert_eq!(likely_field("Herkomt"), Some(Field::ListSource));
        assert_eq!(likely_field("consent_att"), Some(Field::ConsentAt));
        assert_eq!(likely_field("Klantnummer"), None);
        assert_eq!(likely_field("Telefoon"), None);
    }

    #[test]
    fn a_mapped_column_is_a_variable_under_its_header_too() {
        let m = map(&["E-mailadres", "Voornaam", "Klant Nummer", "first_name_2"]);
        let column = |header: &str| {
            m.columns
                .columns
                .iter()
                .find(|c| c.header == header)
                .unwrap()
        };
        assert_eq!(column("Voornaam").var, "first_name");
        assert_eq!(column("Voornaam").header_var.as_deref(), Some("voornaam"));
        assert_eq!(
            column("E-mailadres").header_var.as_deref(),
            Some("e_mailadres")
        );
        assert_eq!(
            column("Klant Nummer").header_var,
            None,
            "unmapped: var is the header"
        );
        let vars: Vec<_> = m.columns.vars().collect();
        for var in [
            "email",
            "first_name",
            "klant_nummer",
            "voornaam",
            "e_mailadres",
        ] {
            assert!(vars.contains(&var), "{var}: {vars:?}");
        }
        assert_eq!(
            m.columns.column_of_var("voornaam").unwrap().header,
            "Voornaam"
        );
        // A header whose snake_case is a field's name adds nothing.
        let m = map(&["email", "first_name"]);
        assert!(m.columns.columns.iter().all(|c| c.header_var.is_none()));
    }

    #[test]
    fn unmapped_columns_are_snake_case_variables() {
        assert_eq!(snake_case("Klant Nummer", 0), "klant_nummer");
        assert_eq!(snake_case("  Klant--Nummer (oud) ", 0), "klant_nummer_oud");
        assert_eq!(snake_case("Geïnteresseerd in", 0), "geinteresseerd_in");
        assert_eq!(snake_case("2e adres", 0), "col_2e_adres");
        assert_eq!(snake_case(" ?? ", 4), "column_5");
        let m = map(&["Email", "Klant Nummer"]);
        assert_eq!(m.columns.columns[0].var, "email");
        assert_eq!(m.columns.columns[1].var, "klant_nummer");
    }

    #[test]
    fn override_wins_over_alias() {
        let overrides = [
            (Field::Email, "contact".to_owned()),
            (Field::ConsentAt, "Optin datum".to_owned()),
        ];
        let m = map_header(
            &strings(&["E-mail oud", "Contact", "Consent", "Optin Datum"]),
            &overrides,
        )
        .unwrap();
        assert_eq!(m.columns.header_of(Field::Email), Some("Contact"));
        assert_eq!(m.columns.header_of(Field::ConsentAt), Some("Optin Datum"));
        assert_eq!(field_of(&m, "Consent"), None);
        assert_eq!(m.columns.columns[2].var, "consent");
        assert_eq!(m.plain[Field::ConsentAt.index()], Some(3));
    }

    #[test]
    fn override_naming_an_absent_header_is_an_error() {
        let overrides = [(Field::ConsentAt, "Opt-in".to_owned())];
        let err = map_header(&strings(&["email", "naam"]), &overrides).unwrap_err();
        assert!(err.contains("consent_at"), "{err}");
        assert!(err.contains("\"Opt-in\""), "{err}");
        assert!(err.contains("\"email\", \"naam\""), "{err}");
        assert!(err.contains("[columns]"), "{err}");
    }

    #[test]
    fn two_fields_on_one_column_is_an_error() {
        let overrides = [
            (Field::Name, "Naam".to_owned()),
            (Field::FirstName, "naam".to_owned()),
        ];
        let err = map_header(&strings(&["email", "Naam"]), &overrides).unwrap_err();
        assert!(err.contains("both name and first_name"), "{err}");
    }

    #[test]
    fn missing_email_column_suggests_a_columns_entry() {
        let err = map_header(&strings(&["Naam", "Mailadres klant"]), &[]).unwrap_err();
        assert!(err.contains("no email column"), "{err}");
        assert!(err.contains("\"Naam\", \"Mailadres klant\""), "{err}");
        assert!(
            err.contains("[columns] email = \"Mailadres klant\""),
            "{err}"
        );
        let err = map_header(&strings(&["jan@example.nl"]), &[]).unwrap_err();
        assert!(err.contains("holds an address"), "{err}");
    }

    #[test]
    fn mailchimp_header_derives_consent_from_confirm_then_optin() {
        let m = map(&[
            "Email Address",
            "First Name",
            "Last Name",
            "MEMBER_RATING",
            "OPTIN_TIME",
            "OPTIN_IP",
            "CONFIRM_TIME",
            "CONFIRM_IP",
            "UNSUB_TIME",
        ]);
        assert_eq!(m.preset, Preset::Mailchimp);
        assert_eq!(m.columns.preset(), Preset::Mailchimp);
        assert_eq!(m.columns.header_of(Field::ConsentAt), Some("CONFIRM_TIME"));
        assert_eq!(
            m.columns.header_of(Field::ConsentSource),
            Some("CONFIRM_IP")
        );
        assert_eq!(
            m.columns.header_of(Field::UnsubscribedAt),
            Some("UNSUB_TIME")
        );
        assert_eq!(m.plain[Field::ConsentAt.index()], None);
        assert_eq!(m.plain[Field::UnsubscribedAt.index()], Some(8));
        let mc = m.mailchimp.unwrap();
        assert!(mc.derive_consent_at && mc.derive_consent_source);
        assert_eq!(m.columns.columns[3].var, "member_rating");
        let vars: Vec<_> = m.columns.vars().collect();
        assert_eq!(vars.iter().filter(|v| **v == "consent_at").count(), 1);
    }

    #[test]
    fn mailchimp_without_ip_columns_names_the_time_as_source() {
        let m = map(&["Email Address", "OPTIN_TIME"]);
        assert_eq!(m.columns.header_of(Field::ConsentAt), Some("OPTIN_TIME"));
        assert_eq!(
            m.columns.header_of(Field::ConsentSource),
            Some("OPTIN_TIME")
        );
    }

    #[test]
    fn mailchimp_override_of_consent_at_stops_the_derivation() {
        let overrides = [(Field::ConsentAt, "CONFIRM_TIME".to_owned())];
        let m = map_header(
            &strings(&["Email Address", "OPTIN_TIME", "CONFIRM_TIME"]),
            &overrides,
        )
        .unwrap();
        assert!(!m.mailchimp.unwrap().derive_consent_at);
        assert_eq!(m.plain[Field::ConsentAt.index()], Some(2));
        assert_eq!(field_of(&m, "OPTIN_TIME"), None);
        assert_eq!(m.columns.columns[1].var, "optin_time");
    }

    #[test]
    fn listmonk_header_maps_status_and_attributes() {
        let m = map(&[
            "uuid",
            "email",
            "name",
            "attributes",
            "status",
            "created_at",
            "updated_at",
        ]);
        assert_eq!(m.preset, Preset::Listmonk);
        assert_eq!(m.columns.header_of(Field::UnsubscribedAt), Some("status"));
        assert_eq!(m.columns.header_of(Field::Name), Some("name"));
        assert_eq!(m.columns.header_of(Field::Customer), Some("attributes"));
        assert!(m.columns.column(Field::Customer).is_none());
        assert_eq!(m.plain[Field::UnsubscribedAt.index()], None);
        let l = m.listmonk.unwrap();
        assert_eq!((l.status, l.attributes), (Some(4), Some(3)));
    }

    #[test]
    fn attribute_keys_name_fields_by_their_own_name_only() {
        assert_eq!(field_for_attribute("consent_at"), Some(Field::ConsentAt));
        assert_eq!(field_for_attribute("firstName"), Some(Field::FirstName));
        assert_eq!(field_for_attribute("source"), None);
    }
}

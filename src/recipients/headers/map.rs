//! Mapping a header line to logical fields: aliases, then an export's
//! preset, then the campaign's `[columns]` overrides; and the messages of
//! a header that cannot be mapped.

use super::aliases::{field_for_header, normalized_eq};
use super::names::name_columns;
use super::presets::{Listmonk, Mailchimp, detect_preset};
use super::{ColumnMap, Preset};
use crate::recipients::Field;

/// The header mapped, and what the reader needs to resolve each row.
#[derive(Debug)]
pub(in crate::recipients) struct Mapping {
    pub columns: ColumnMap,
    pub preset: Preset,
    /// The column read as is for each field (by [`Field::index`]); `None`
    /// for a field that is absent or derived per row.
    pub plain: [Option<usize>; Field::ALL.len()],
    pub mailchimp: Option<Mailchimp>,
    pub listmonk: Option<Listmonk>,
}

/// Maps a header line. `overrides` are the campaign's `[columns]` entries.
/// The error is the message for an `InputError` on the header line.
pub(in crate::recipients) fn map_header(
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

/// `"A", "B", "C"` — at most 20, then a count of the rest.
fn list_headers(headers: &[String]) -> String {
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

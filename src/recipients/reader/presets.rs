//! The per-row derivations of the Mailchimp and listmonk presets (see the
//! parent module): Mailchimp's consent date and source from its opt-in
//! record, listmonk's `blocklisted` status and `attributes` JSON.

use std::fmt::Write as _;

use serde_json::Value as Json;

use super::{RecipientReader, Value};
use crate::recipients::Field;
use crate::recipients::headers::{self, Listmonk, Mailchimp};

impl RecipientReader {
    pub(super) fn resolve_presets(&mut self) {
        self.values = self.base;
        if let Some(m) = self.mailchimp {
            self.resolve_mailchimp(m);
        }
        if let Some(l) = self.listmonk {
            self.resolve_listmonk(l);
        }
    }

    fn resolve_mailchimp(&mut self, m: Mailchimp) {
        let confirmed = !self.cell(m.confirm_time).is_empty();
        if m.derive_consent_at {
            let time = if confirmed {
                m.confirm_time
            } else {
                m.optin_time
            };
            self.values[Field::ConsentAt.index()] = match time {
                Some(i) if !self.cell(time).is_empty() => Value::Column(i),
                _ => Value::Empty,
            };
        }
        if m.derive_consent_source {
            let has_consent = !self.field(Field::ConsentAt).is_empty();
            // The IP of the step the consent date comes from, else the other.
            let steps = if confirmed {
                [("confirm", m.confirm_ip), ("optin", m.optin_ip)]
            } else {
                [("optin", m.optin_ip), ("confirm", m.confirm_ip)]
            };
            let ip = steps
                .into_iter()
                .find(|&(_, column)| !self.cell(column).is_empty());
            self.consent_source.clear();
            if has_consent {
                self.consent_source.push_str("mailchimp");
                if let Some((step, Some(column))) = ip {
                    let ip = self.records.get(column).trim();
                    let _ = write!(self.consent_source, " ({step} ip {ip})");
                }
            }
            self.values[Field::ConsentSource.index()] = Value::ConsentSource;
        }
    }

    fn resolve_listmonk(&mut self, l: Listmonk) {
        self.attributes.clear();
        self.attributes_error = None;
        let json = self.cell(l.attributes);
        if !json.is_empty() {
            match serde_json::from_str::<serde_json::Map<String, Json>>(json) {
                Ok(object) => {
                    for (key, value) in object {
                        let mut text = String::new();
                        attribute_text(&value, &mut text);
                        if !self.attribute_keys.contains(&key) {
                            self.attribute_keys.insert(key.clone());
                        }
                        self.attributes.push((key, text));
                    }
                }
                Err(err) => {
                    self.attributes_error =
                        Some(format!("the attributes are not a JSON object ({err})"));
                }
            }
        }
        for (i, (key, _)) in self.attributes.iter().enumerate() {
            if let Some(field) = headers::field_for_attribute(key)
                && self.base[field.index()] == Value::Empty
            {
                self.values[field.index()] = Value::Attribute(i);
            }
        }
        if l.status.is_some() {
            // Otherwise an `unsubscribed_at` attribute, if any, decides.
            if self.cell(l.status).eq_ignore_ascii_case("blocklisted") {
                self.values[Field::UnsubscribedAt.index()] = Value::Text("blocklisted");
            }
        }
    }
}

/// A JSON attribute as a template value: strings as they are, booleans as
/// `true`/`false`, numbers as written, arrays joined with `|` (as lists in
/// a cell are), `null` as nothing, an object as its JSON text.
fn attribute_text(value: &Json, out: &mut String) {
    match value {
        Json::Null => {}
        Json::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Json::Number(n) => {
            let _ = write!(out, "{n}");
        }
        Json::String(s) => out.push_str(s),
        Json::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                attribute_text(item, out);
            }
        }
        Json::Object(_) => {
            let _ = write!(out, "{value}");
        }
    }
}

//! The sections of the campaign file: `[campaign]`, `[columns]`, `[rules]`
//! and `[smtp]`, each read from the document into the [`Settings`].

use std::ops::Range;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use toml::de::{DeTable, DeValue};

use super::Settings;
use super::toml_reader::Reader;
use crate::campaign::{Jurisdiction, Rate, Smtp, Tls};
use crate::levels::{Level, RULE_NAMES, RuleId};
use crate::recipients::Field;
use crate::suggest::suggest;

const CAMPAIGN_KEYS: &[&str] = &[
    "name",
    "draft",
    "recipients",
    "suppression",
    "product",
    "products",
    "sender",
    "postal_address",
    "unsubscribe_url",
    "jurisdiction",
    "today",
];
const RULES_KEYS: &[&str] = &[
    "allow",
    "warn",
    "deny",
    "soft_opt_in_months",
    "consent_max_age_months",
];
const SMTP_KEYS: &[&str] = &[
    "host",
    "port",
    "tls",
    "username",
    "password_env",
    "password",
    "ca_file",
    "connections",
    "rate",
];
pub(super) fn read_campaign(reader: &mut Reader<'_>, table: &DeTable<'_>, settings: &mut Settings) {
    reader.unknown_keys(table, "campaign", CAMPAIGN_KEYS);
    let mut product_key: Option<&str> = None;
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            "name" => settings.name = reader.string(value, name),
            "draft" => settings.draft = reader.string(value, name).map(PathBuf::from),
            "recipients" => settings.recipients = reader.string(value, name).map(PathBuf::from),
            "suppression" => {
                let files = match value.get_ref() {
                    DeValue::String(s) => Some(vec![s.to_string()]),
                    _ => reader.strings(value, name),
                };
                settings.suppression = files
                    .unwrap_or_default()
                    .into_iter()
                    .map(PathBuf::from)
                    .collect();
            }
            "product" | "products" => {
                if let Some(other) = product_key {
                    reader.error(
                        key.span(),
                        format!("both `{other}` and `{name}` are set; keep one"),
                    );
                    continue;
                }
                product_key = Some(name);
                let list = match value.get_ref() {
                    DeValue::String(s) if name == "product" => Some(vec![s.to_string()]),
                    _ if name == "product" => {
                        reader.error(
                            value.span(),
                            "`product` must be a string; use `products = [...]` for several",
                        );
                        None
                    }
                    _ => reader.strings(value, name),
                };
                settings.products = list.unwrap_or_default();
                settings.products_at = Some(reader.place(key.span()));
                settings.product_places = match value.get_ref() {
                    DeValue::Array(items) => {
                        items.iter().map(|item| reader.place(item.span())).collect()
                    }
                    _ => vec![reader.place(value.span())],
                };
                if settings.product_places.len() != settings.products.len() {
                    settings.product_places.clear();
                }
            }
            "sender" => settings.sender = reader.string(value, name),
            "postal_address" => settings.postal_address = reader.string(value, name),
            "unsubscribe_url" => {
                settings.unsubscribe_url = reader.string(value, name);
                settings.unsubscribe_url_at = Some(reader.place(value.span()));
                if let Some(problem) = settings
                    .unsubscribe_url
                    .as_deref()
                    .and_then(crate::campaign::unsubscribe::template_problem)
                {
                    reader.error(value.span(), problem);
                }
            }
            "jurisdiction" => {
                if let Some(j) = reader.string(value, name) {
                    match Jurisdiction::from_name(&j) {
                        Some(j) => settings.jurisdiction = j,
                        None => reader.error(
                            value.span(),
                            format!("unknown jurisdiction `{j}`; expected nl, eu, us or ca"),
                        ),
                    }
                }
            }
            "today" => {
                let text = match value.get_ref() {
                    DeValue::String(s) => Some(s.to_string()),
                    DeValue::Datetime(d) => Some(d.to_string()),
                    _ => None,
                };
                match text.as_deref().map(str::parse::<Date>) {
                    Some(Ok(date)) => settings.today = Some(date),
                    _ => reader.error(value.span(), "`today` must be a date like \"2027-03-01\""),
                }
            }
            _ => {} // reported by unknown_keys
        }
    }
}

pub(super) fn read_columns(reader: &mut Reader<'_>, table: &DeTable<'_>, settings: &mut Settings) {
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let Some(field) = Field::from_name(name) else {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            let hint = suggest(name, &names)
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
            reader.error(
                key.span(),
                format!("unknown field `{name}` in [columns]; {hint}"),
            );
            continue;
        };
        if let Some(header) = reader.string(value, name) {
            settings.columns.push((field, header));
        }
    }
}

pub(super) fn read_rules(reader: &mut Reader<'_>, table: &DeTable<'_>, settings: &mut Settings) {
    reader.unknown_keys(table, "rules", RULES_KEYS);
    let names = RULE_NAMES;
    // Read allow, warn, deny in that order whatever the file's order, so a
    // rule in two lists is reported, not silently resolved.
    let mut seen: Vec<(RuleId, &str)> = Vec::new();
    for (list, level) in [
        ("allow", Level::Allow),
        ("warn", Level::Warn),
        ("deny", Level::Deny),
    ] {
        let Some((_, value)) = table.iter().find(|(k, _)| k.get_ref() == list) else {
            continue;
        };
        let DeValue::Array(items) = value.get_ref() else {
            reader.error(
                value.span(),
                format!("`{list}` must be an array of rule names"),
            );
            continue;
        };
        for item in items.iter() {
            let Some(rule_name) = reader.string(item, list) else {
                continue;
            };
            match RuleId::from_name(&rule_name) {
                Some(rule) => {
                    if let Some((_, other)) = seen.iter().find(|(r, _)| *r == rule) {
                        reader.error(
                            item.span(),
                            format!("`{rule_name}` is in both `{other}` and `{list}`; keep one"),
                        );
                    } else {
                        seen.push((rule, list));
                        settings.rule_levels.push((rule, level));
                    }
                }
                None => {
                    let hint = suggest(&rule_name, &names)
                        .map(|s| format!("did you mean `{s}`?"))
                        .unwrap_or_else(|| "run `mailgate rules` for the list".to_owned());
                    reader.error(
                        item.span(),
                        format!("unknown rule `{rule_name}` in `{list}`; {hint}"),
                    );
                }
            }
        }
    }
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let months = match name {
            "soft_opt_in_months" | "consent_max_age_months" => reader.integer(value, name, 0, 1200),
            _ => continue,
        };
        let months = months.map(|m| m as u32);
        if name == "soft_opt_in_months" {
            settings.soft_opt_in_months = months;
        } else {
            settings.consent_max_age_months = months;
        }
    }
}

/// Why `ca_file` (relative to the campaign file) cannot serve as the CA to
/// trust, if it cannot: unreadable, or not a PEM certificate. Checked when
/// the campaign is read, so that a bad file stops `send` before the lint
/// and the relay, not after.
fn ca_file_problem(campaign: &Path, ca_file: &Path) -> Option<String> {
    let path = campaign
        .parent()
        .map(|dir| dir.join(ca_file))
        .unwrap_or_else(|| ca_file.to_path_buf());
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(e) => return Some(format!("cannot read ca_file {}: {e}", path.display())),
    };
    let is_pem = bytes
        .windows(b"-----BEGIN CERTIFICATE-----".len())
        .any(|w| w == b"-----BEGIN CERTIFICATE-----");
    // lettre reads the file the same way when it connects.
    if is_pem && lettre::transport::smtp::client::Certificate::from_pem(&bytes).is_ok() {
        return None;
    }
    let hint = if bytes.first() == Some(&0x30) {
        format!(
            " (it looks like DER: convert it with `openssl x509 -inform der -in {0} -out {0}.pem`)",
            path.display()
        )
    } else {
        String::new()
    };
    Some(format!(
        "ca_file {} is not a PEM certificate{hint}; give the certificate of the CA that issued \
         the relay's certificate, in PEM form (-----BEGIN CERTIFICATE-----)",
        path.display()
    ))
}

/// The `[smtp]` table, named at `at` in the file.
pub(super) fn read_smtp(
    reader: &mut Reader<'_>,
    table: &DeTable<'_>,
    at: Range<usize>,
) -> Option<Smtp> {
    reader.unknown_keys(table, "smtp", SMTP_KEYS);
    let mut host = None;
    let mut port = None;
    let mut tls = Tls::Starttls;
    let mut tls_at = None;
    let mut smtp = Smtp {
        host: String::new(),
        port: 0,
        tls,
        username: None,
        password_env: None,
        ca_file: None,
        connections: 4,
        rate: None,
        tls_at: None,
        password_at: None,
    };
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            "host" => host = reader.string(value, name),
            "port" => port = reader.integer(value, name, 1, 65535).map(|p| p as u16),
            "tls" => {
                tls_at = Some(reader.place(value.span()));
                if let Some(t) = reader.string(value, name) {
                    match t.as_str() {
                        "starttls" => tls = Tls::Starttls,
                        "tls" => tls = Tls::Tls,
                        "none" => tls = Tls::None,
                        other => reader.error(
                            value.span(),
                            format!("unknown tls mode `{other}`; expected starttls, tls or none"),
                        ),
                    }
                }
            }
            "username" => smtp.username = reader.string(value, name),
            "password_env" => smtp.password_env = reader.string(value, name),
            // Never keep the value: it is a secret that must not travel further.
            "password" => smtp.password_at = Some(reader.place(key.span())),
            "ca_file" => {
                smtp.ca_file = reader.string(value, name).map(PathBuf::from);
                if let Some(problem) = smtp
                    .ca_file
                    .as_deref()
                    .and_then(|f| ca_file_problem(reader.path, f))
                {
                    reader.error(value.span(), problem);
                }
            }
            "connections" => {
                if let Some(n) = reader.integer(value, name, 1, 64) {
                    smtp.connections = n as u32;
                }
            }
            "rate" => {
                if let Some(text) = reader.string(value, name) {
                    match parse_rate(&text) {
                        Some(rate) => smtp.rate = Some(rate),
                        None => reader.error(
                            value.span(),
                            format!("bad rate `{text}`; write e.g. \"50/s\", \"3000/min\" or \"100000/h\""),
                        ),
                    }
                }
            }
            _ => {}
        }
    }
    let Some(host) = host else {
        reader.error(at, "[smtp] needs `host`");
        return None;
    };
    smtp.port = port.unwrap_or(match tls {
        Tls::Starttls => 587,
        Tls::Tls => 465,
        Tls::None => 25,
    });
    smtp.host = host;
    smtp.tls = tls;
    smtp.tls_at = tls_at;
    Some(smtp)
}

/// Parses `"50/s"`, `"3000/min"`, `"100000/h"`.
pub(super) fn parse_rate(text: &str) -> Option<Rate> {
    let (count, unit) = text.trim().split_once('/')?;
    let messages: u32 = count.trim().parse().ok().filter(|&n| n > 0)?;
    let per_seconds = match unit.trim() {
        "s" | "sec" | "second" => 1,
        "m" | "min" | "minute" => 60,
        "h" | "hour" => 3600,
        _ => return None,
    };
    Some(Rate {
        messages,
        per_seconds,
    })
}

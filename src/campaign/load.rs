//! Reading `campaign.toml` into a [`Campaign`].
//!
//! The file is parsed into toml's spanned document tree and walked by hand
//! rather than deserialised with `deny_unknown_fields`: serde stops at the
//! first problem, and SPEC §1.1 wants every unknown key and bad value
//! reported together, each with its line.

use std::fmt;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{Campaign, Jurisdiction, Overrides, ProductGroup, Rate, Smtp, Tls};
use crate::recipients::Field;
use crate::rules::{Level, RuleId};
use crate::suggest::suggest;

/// One problem in the campaign file or the command-line settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    pub line: Option<u64>,
    pub message: String,
}

/// Every problem found, reported together.
#[derive(Clone, Debug)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}: {}", self.path.display(), self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

const TABLES: &[&str] = &["campaign", "products", "columns", "rules", "smtp"];
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

/// Collects problems while walking the document.
struct Reader<'a> {
    path: &'a Path,
    source: &'a str,
    errors: Vec<ConfigError>,
}

impl Reader<'_> {
    fn line_of(&self, offset: usize) -> u64 {
        let end = offset.min(self.source.len());
        self.source.as_bytes()[..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u64
            + 1
    }

    fn error(&mut self, offset: usize, message: impl Into<String>) {
        let line = Some(self.line_of(offset));
        self.errors.push(ConfigError {
            path: self.path.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    /// Reports every key of `table` that is not in `known`, with a suggestion.
    fn unknown_keys(&mut self, table: &DeTable<'_>, section: &str, known: &[&str]) {
        for (key, _) in table.iter() {
            let name: &str = key.get_ref();
            if !known.contains(&name) {
                let hint = suggest(name, known)
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_else(|| format!("; expected one of: {}", known.join(", ")));
                self.error(
                    key.span().start,
                    format!("unknown key `{name}` in [{section}]{hint}"),
                );
            }
        }
    }

    fn string(&mut self, value: &Spanned<DeValue<'_>>, key: &str) -> Option<String> {
        match value.get_ref() {
            DeValue::String(s) => Some(s.to_string()),
            other => {
                let kind = other.type_str();
                self.error(
                    value.span().start,
                    format!("`{key}` must be a string, not {kind}"),
                );
                None
            }
        }
    }

    fn strings(&mut self, value: &Spanned<DeValue<'_>>, key: &str) -> Option<Vec<String>> {
        match value.get_ref() {
            DeValue::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items.iter() {
                    out.push(self.string(item, key)?);
                }
                Some(out)
            }
            other => {
                let kind = other.type_str();
                self.error(
                    value.span().start,
                    format!("`{key}` must be an array of strings, not {kind}"),
                );
                None
            }
        }
    }

    /// A whole number from `min` to `max`; the message names that range.
    fn integer(
        &mut self,
        value: &Spanned<DeValue<'_>>,
        key: &str,
        min: i64,
        max: i64,
    ) -> Option<i64> {
        let parsed = match value.get_ref() {
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).ok(),
            _ => None,
        };
        match parsed {
            Some(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                self.error(
                    value.span().start,
                    format!("`{key}` must be a whole number from {min} to {max}"),
                );
                None
            }
        }
    }

    fn table<'v, 'i>(
        &mut self,
        value: &'v Spanned<DeValue<'i>>,
        name: &str,
    ) -> Option<&'v DeTable<'i>> {
        match value.get_ref() {
            DeValue::Table(t) => Some(t),
            _ => {
                self.error(
                    value.span().start,
                    format!("`{name}` must be a table: [{name}]"),
                );
                None
            }
        }
    }
}

/// The campaign file's text, at most [`MAX_CAMPAIGN_BYTES`] of it; the
/// error is the message for the user.
///
/// [`MAX_CAMPAIGN_BYTES`]: crate::limits::MAX_CAMPAIGN_BYTES
fn read_campaign_file(path: &Path) -> Result<String, String> {
    use crate::limits::{MAX_CAMPAIGN_BYTES, ReadError, megabytes, read_at_most};
    let bytes = read_at_most(path, MAX_CAMPAIGN_BYTES).map_err(|e| match e {
        ReadError::Io(e) => format!(
            "cannot read the campaign file: {e}; check the path, or run `mailgate init` to \
             create one"
        ),
        ReadError::TooLarge { max } => format!(
            "the campaign file is larger than {}; is it the right file? A campaign file holds \
             a few settings (see `mailgate init`)",
            megabytes(max)
        ),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "cannot read the campaign file: it is not UTF-8 text (byte {}); save it as UTF-8",
            e.utf8_error().valid_up_to()
        )
    })
}

/// Raw settings read from the file, before overrides and defaults.
#[derive(Default)]
struct Settings {
    name: Option<String>,
    draft: Option<PathBuf>,
    recipients: Option<PathBuf>,
    suppression: Vec<PathBuf>,
    products: Vec<String>,
    products_line: Option<u64>,
    unsubscribe_url_line: Option<u64>,
    sender: Option<String>,
    postal_address: Option<String>,
    unsubscribe_url: Option<String>,
    jurisdiction: Jurisdiction,
    today: Option<Date>,
    product_groups: Vec<ProductGroup>,
    columns: Vec<(Field, String)>,
    rule_levels: Vec<(RuleId, Level)>,
    soft_opt_in_months: Option<u32>,
    consent_max_age_months: Option<u32>,
    smtp: Option<Smtp>,
}

impl Campaign {
    /// Reads the campaign file (if any) and applies the command-line
    /// overrides. Without a file, `overrides` must name the recipients and
    /// the draft.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Campaign, ConfigErrors> {
        let mut settings = Settings::default();
        let mut errors = Vec::new();
        if let Some(path) = path {
            let source = read_campaign_file(path).map_err(|message| {
                ConfigErrors(vec![ConfigError {
                    path: path.to_path_buf(),
                    line: None,
                    message,
                }])
            })?;
            let mut reader = Reader {
                path,
                source: &source,
                errors: Vec::new(),
            };
            let read = read_settings(&mut reader);
            errors = reader.errors;
            // A file that is not TOML at all has no settings to check further.
            settings = read.ok_or_else(|| ConfigErrors(errors.clone()))?;
        }
        let display = path.map(Path::to_path_buf).unwrap_or_default();
        let base = path
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let resolve = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };

        let draft = overrides.draft.clone().or(settings.draft.map(resolve));
        let recipients = overrides
            .recipients
            .clone()
            .or(settings.recipients.map(&resolve));
        let missing = |what: &str, flag: &str| ConfigError {
            path: display.clone(),
            line: None,
            message: match path {
                Some(_) => {
                    format!("no {what}: set `{what} = \"...\"` in [campaign], or pass {flag} FILE")
                }
                None => format!("no {what}: pass {flag} FILE, or give a campaign file"),
            },
        };
        if draft.is_none() {
            errors.push(missing("draft", "--draft"));
        }
        if recipients.is_none() {
            errors.push(missing("recipients", "--recipients"));
        }
        if !errors.is_empty() {
            errors.sort_by_key(|e| (e.line.is_none(), e.line));
            return Err(ConfigErrors(errors));
        }
        let (products, products_line) = if overrides.products.is_empty() {
            (settings.products, settings.products_line)
        } else {
            (overrides.products.clone(), None)
        };
        let name = settings.name.unwrap_or_else(|| {
            path.and_then(Path::file_stem)
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "mailgate".to_owned())
        });
        Ok(Campaign {
            path: path.map(Path::to_path_buf),
            name,
            draft: draft.unwrap_or_default(),
            recipients: recipients.unwrap_or_default(),
            suppression: settings.suppression.into_iter().map(&resolve).collect(),
            products,
            products_line,
            sender: settings.sender,
            postal_address: settings.postal_address,
            unsubscribe_url: settings.unsubscribe_url,
            unsubscribe_url_line: settings.unsubscribe_url_line,
            jurisdiction: settings.jurisdiction,
            today: settings
                .today
                .unwrap_or_else(|| jiff::ZonedDateTime::now().date()),
            product_groups: settings.product_groups,
            columns: settings.columns,
            rule_levels: settings.rule_levels,
            soft_opt_in_months: settings.soft_opt_in_months.unwrap_or(24),
            consent_max_age_months: settings.consent_max_age_months.unwrap_or(0),
            smtp: settings.smtp.map(|mut smtp| {
                smtp.ca_file = smtp.ca_file.map(&resolve);
                smtp
            }),
        })
    }
}

/// The start of the line that nests deepest (the most `.`, `[` and `{`),
/// where a nesting limit is met; `None` for a file without any.
fn deepest_line(source: &str) -> Option<usize> {
    let mut offset = 0;
    let mut deepest = (0, None);
    for line in source.split_inclusive('\n') {
        let depth = line
            .bytes()
            .filter(|b| matches!(b, b'.' | b'[' | b'{'))
            .count();
        if depth > deepest.0 {
            deepest = (depth, Some(offset));
        }
        offset += line.len();
    }
    deepest.1
}

fn read_settings(reader: &mut Reader<'_>) -> Option<Settings> {
    let mut settings = Settings::default();
    let document = match DeTable::parse(reader.source) {
        Ok(doc) => doc,
        Err(e) => {
            let message = e.message().trim().to_owned();
            // toml gives no place for some errors (its recursion limit on
            // dotted keys and table headers): then the most deeply nested
            // line is named, never a made-up line 1.
            match e
                .span()
                .map(|s| s.start)
                .or_else(|| deepest_line(reader.source))
            {
                Some(offset) => reader.error(offset, format!("not valid TOML: {message}")),
                None => reader.errors.push(ConfigError {
                    path: reader.path.to_path_buf(),
                    line: None,
                    message: format!("not valid TOML: {message}"),
                }),
            }
            return None;
        }
    };
    for (key, value) in document.get_ref().iter() {
        let name: &str = key.get_ref();
        let start = key.span().start;
        match name {
            "campaign" => {
                if let Some(t) = reader.table(value, name) {
                    read_campaign(reader, t, &mut settings);
                }
            }
            "products" => {
                if let Some(t) = reader.table(value, name) {
                    for (group, members) in t.iter() {
                        if let Some(products) = reader.strings(members, group.get_ref()) {
                            settings.product_groups.push(ProductGroup {
                                name: group.get_ref().to_string(),
                                products,
                                line: Some(reader.line_of(group.span().start)),
                            });
                        }
                    }
                }
            }
            "columns" => {
                if let Some(t) = reader.table(value, name) {
                    read_columns(reader, t, &mut settings);
                }
            }
            "rules" => {
                if let Some(t) = reader.table(value, name) {
                    read_rules(reader, t, &mut settings);
                }
            }
            "smtp" => {
                if let Some(t) = reader.table(value, name) {
                    settings.smtp = read_smtp(reader, t);
                }
            }
            _ => {
                let hint = suggest(name, TABLES)
                    .map(|s| format!("did you mean [{s}]?"))
                    .unwrap_or_else(|| format!("expected one of [{}]", TABLES.join("], [")));
                reader.error(start, format!("unknown table or key `{name}`; {hint}"));
            }
        }
    }
    Some(settings)
}

fn read_campaign(reader: &mut Reader<'_>, table: &DeTable<'_>, settings: &mut Settings) {
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
                        key.span().start,
                        format!("both `{other}` and `{name}` are set; keep one"),
                    );
                    continue;
                }
                product_key = Some(name);
                let list = match value.get_ref() {
                    DeValue::String(s) if name == "product" => Some(vec![s.to_string()]),
                    _ if name == "product" => {
                        reader.error(
                            value.span().start,
                            "`product` must be a string; use `products = [...]` for several",
                        );
                        None
                    }
                    _ => reader.strings(value, name),
                };
                settings.products = list.unwrap_or_default();
                settings.products_line = Some(reader.line_of(key.span().start));
            }
            "sender" => settings.sender = reader.string(value, name),
            "postal_address" => settings.postal_address = reader.string(value, name),
            "unsubscribe_url" => {
                settings.unsubscribe_url = reader.string(value, name);
                settings.unsubscribe_url_line = Some(reader.line_of(key.span().start));
                if let Some(problem) = settings
                    .unsubscribe_url
                    .as_deref()
                    .and_then(super::unsubscribe::template_problem)
                {
                    reader.error(value.span().start, problem);
                }
            }
            "jurisdiction" => {
                if let Some(j) = reader.string(value, name) {
                    match Jurisdiction::from_name(&j) {
                        Some(j) => settings.jurisdiction = j,
                        None => reader.error(
                            value.span().start,
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
                    _ => reader.error(
                        value.span().start,
                        "`today` must be a date like \"2027-03-01\"",
                    ),
                }
            }
            _ => {} // reported by unknown_keys
        }
    }
}

fn read_columns(reader: &mut Reader<'_>, table: &DeTable<'_>, settings: &mut Settings) {
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        let Some(field) = Field::from_name(name) else {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            let hint = suggest(name, &names)
                .map(|s| format!("did you mean `{s}`?"))
                .unwrap_or_else(|| format!("expected one of: {}", names.join(", ")));
            reader.error(
                key.span().start,
                format!("unknown field `{name}` in [columns]; {hint}"),
            );
            continue;
        };
        if let Some(header) = reader.string(value, name) {
            settings.columns.push((field, header));
        }
    }
}

fn read_rules(reader: &mut Reader<'_>, table: &DeTable<'_>, settings: &mut Settings) {
    reader.unknown_keys(table, "rules", RULES_KEYS);
    let names: Vec<&str> = crate::rules::RULES.iter().map(|r| r.name).collect();
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
                value.span().start,
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
                            item.span().start,
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
                        item.span().start,
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

fn read_smtp(reader: &mut Reader<'_>, table: &DeTable<'_>) -> Option<Smtp> {
    reader.unknown_keys(table, "smtp", SMTP_KEYS);
    let mut host = None;
    let mut port = None;
    let mut tls = Tls::Starttls;
    let mut tls_line = None;
    let mut smtp = Smtp {
        host: String::new(),
        port: 0,
        tls,
        username: None,
        password_env: None,
        ca_file: None,
        connections: 4,
        rate: None,
        tls_line: None,
        password_line: None,
    };
    for (key, value) in table.iter() {
        let name: &str = key.get_ref();
        match name {
            "host" => host = reader.string(value, name),
            "port" => port = reader.integer(value, name, 1, 65535).map(|p| p as u16),
            "tls" => {
                tls_line = Some(reader.line_of(key.span().start));
                if let Some(t) = reader.string(value, name) {
                    match t.as_str() {
                        "starttls" => tls = Tls::Starttls,
                        "tls" => tls = Tls::Tls,
                        "none" => tls = Tls::None,
                        other => reader.error(
                            value.span().start,
                            format!("unknown tls mode `{other}`; expected starttls, tls or none"),
                        ),
                    }
                }
            }
            "username" => smtp.username = reader.string(value, name),
            "password_env" => smtp.password_env = reader.string(value, name),
            // Never keep the value: it is a secret that must not travel further.
            "password" => smtp.password_line = Some(reader.line_of(key.span().start)),
            "ca_file" => {
                smtp.ca_file = reader.string(value, name).map(PathBuf::from);
                if let Some(problem) = smtp
                    .ca_file
                    .as_deref()
                    .and_then(|f| ca_file_problem(reader.path, f))
                {
                    reader.error(value.span().start, problem);
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
                            value.span().start,
                            format!("bad rate `{text}`; write e.g. \"50/s\", \"3000/min\" or \"100000/h\""),
                        ),
                    }
                }
            }
            _ => {}
        }
    }
    let Some(host) = host else {
        let offset = table
            .iter()
            .next()
            .map(|(k, _)| k.span().start)
            .unwrap_or(0);
        reader.error(offset, "[smtp] needs `host`");
        return None;
    };
    smtp.port = port.unwrap_or(match tls {
        Tls::Starttls => 587,
        Tls::Tls => 465,
        Tls::None => 25,
    });
    smtp.host = host;
    smtp.tls = tls;
    smtp.tls_line = tls_line;
    Some(smtp)
}

/// Parses `"50/s"`, `"3000/min"`, `"100000/h"`.
fn parse_rate(text: &str) -> Option<Rate> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> Result<Campaign, ConfigErrors> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("campaign.toml");
        std::fs::write(&path, text).unwrap();
        Campaign::load(Some(&path), &Overrides::default())
    }

    #[test]
    fn reads_every_key_and_resolves_paths() {
        let campaign = load_text(
            r#"
[campaign]
name = "Voorjaarsactie"
draft = "draft.eml"
recipients = "data/recipients.csv"
suppression = ["unsub.csv"]
products = ["garden-furniture", "parasols"]
sender = "De Linde B.V."
postal_address = "Dorpsstraat 1"
unsubscribe_url = "https://x.example/u?e={{ email }}"
jurisdiction = "ca"
today = "2027-03-01"

[products]
garden = ["garden-furniture", "parasols"]

[columns]
email = "Email Address"

[rules]
allow = ["stale-consent"]
deny = ["missing-list-unsubscribe"]
soft_opt_in_months = 12
consent_max_age_months = 36

[smtp]
host = "127.0.0.1"
tls = "none"
password_env = "PW"
rate = "3000/min"
"#,
        )
        .unwrap();
        assert_eq!(campaign.name, "Voorjaarsactie");
        assert!(campaign.recipients.ends_with("data/recipients.csv"));
        assert!(campaign.recipients.is_absolute());
        assert_eq!(campaign.products, ["garden-furniture", "parasols"]);
        assert_eq!(campaign.products_line, Some(7));
        assert_eq!(campaign.jurisdiction, Jurisdiction::Ca);
        assert_eq!(campaign.today, jiff::civil::date(2027, 3, 1));
        assert_eq!(
            campaign.columns,
            [(Field::Email, "Email Address".to_owned())]
        );
        assert_eq!(campaign.soft_opt_in_months, 12);
        assert_eq!(campaign.consent_max_age_months, 36);
        assert_eq!(campaign.rule_levels.len(), 2);
        let smtp = campaign.smtp.unwrap();
        assert_eq!((smtp.port, smtp.tls), (25, Tls::None));
        assert_eq!(
            smtp.rate,
            Some(Rate {
                messages: 3000,
                per_seconds: 60
            })
        );
    }

    #[test]
    fn reports_all_problems_at_once_with_lines() {
        let errors = load_text(
            "[campaign]\ndraft = \"d.eml\"\nrecipents = \"r.csv\"\njurisdiction = \"de\"\n\
             [rules]\nallow = [\"stale-consnt\"]\n[smtpp]\nhost = \"x\"\n",
        )
        .unwrap_err()
        .0;
        let lines: Vec<_> = errors.iter().map(|e| e.line).collect();
        assert!(lines.contains(&Some(3)), "{errors:?}");
        assert!(lines.contains(&Some(4)), "{errors:?}");
        assert!(lines.contains(&Some(6)), "{errors:?}");
        assert!(lines.contains(&Some(7)), "{errors:?}");
        let text = ConfigErrors(errors).to_string();
        assert!(text.contains("did you mean `recipients`"), "{text}");
        assert!(text.contains("did you mean `stale-consent`"), "{text}");
        assert!(text.contains("campaign.toml:3:"), "{text}");
    }

    #[test]
    fn password_literal_is_located_not_kept() {
        let campaign = load_text(
            "[campaign]\ndraft = \"d.eml\"\nrecipients = \"r.csv\"\n[smtp]\nhost = \"h\"\npassword = \"hunter2\"\n",
        )
        .unwrap();
        assert_eq!(campaign.smtp.as_ref().unwrap().password_line, Some(6));
        assert!(!format!("{campaign:?}").contains("hunter2"));
    }

    #[test]
    fn invalid_toml_names_the_line() {
        let errors = load_text("[campaign]\ndraft = \"d.eml\nrecipients = 1\n")
            .unwrap_err()
            .0;
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!(errors[0].line, Some(2));
    }

    #[test]
    fn flags_work_without_a_file() {
        let overrides = Overrides {
            recipients: Some("r.csv".into()),
            draft: Some("d.eml".into()),
            products: vec!["bbq".into()],
        };
        let campaign = Campaign::load(None, &overrides).unwrap();
        assert_eq!(campaign.products, ["bbq"]);
        assert!(campaign.product_groups.is_empty());
        let missing = Campaign::load(None, &Overrides::default()).unwrap_err();
        assert_eq!(missing.0.len(), 2);
    }

    #[test]
    fn rate_forms() {
        assert_eq!(
            parse_rate("50/s"),
            Some(Rate {
                messages: 50,
                per_seconds: 1
            })
        );
        assert_eq!(parse_rate("0/s"), None);
        assert_eq!(parse_rate("fast"), None);
    }
}

//! Reading `campaign.toml` into a [`Campaign`].
//!
//! The file is parsed into toml's spanned document tree and walked by hand
//! rather than deserialised with `deny_unknown_fields`: serde stops at the
//! first problem, and SPEC §1.1 wants every unknown key and bad value
//! reported together, each with its line.

mod sections;
mod toml_reader;

pub use toml_reader::{ConfigError, ConfigErrors};

use std::path::{Path, PathBuf};

use jiff::civil::Date;
use toml::de::DeTable;

use super::{Campaign, Jurisdiction, Overrides, ProductGroup, Smtp};
use crate::levels::{Level, RuleId};
use crate::recipients::Field;
use crate::span::Place;
use crate::suggest::suggest;
use sections::{read_campaign, read_columns, read_rules, read_smtp};
use toml_reader::Reader;

const TABLES: &[&str] = &["campaign", "products", "columns", "rules", "smtp"];

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
pub(super) struct Settings {
    pub(super) name: Option<String>,
    pub(super) draft: Option<PathBuf>,
    pub(super) recipients: Option<PathBuf>,
    pub(super) suppression: Vec<PathBuf>,
    pub(super) products: Vec<String>,
    pub(super) products_at: Option<Place>,
    pub(super) product_places: Vec<Place>,
    pub(super) unsubscribe_url_at: Option<Place>,
    pub(super) sender: Option<String>,
    pub(super) postal_address: Option<String>,
    pub(super) unsubscribe_url: Option<String>,
    pub(super) jurisdiction: Jurisdiction,
    pub(super) today: Option<Date>,
    pub(super) product_groups: Vec<ProductGroup>,
    pub(super) columns: Vec<(Field, String)>,
    pub(super) rule_levels: Vec<(RuleId, Level)>,
    pub(super) soft_opt_in_months: Option<u32>,
    pub(super) consent_max_age_months: Option<u32>,
    pub(super) smtp: Option<Smtp>,
}

impl Campaign {
    /// Reads the campaign file (if any) and applies the command-line
    /// overrides. Without a file, `overrides` must name the recipients and
    /// the draft.
    pub fn load(path: Option<&Path>, overrides: &Overrides) -> Result<Campaign, ConfigErrors> {
        let mut settings = Settings::default();
        let mut errors = Vec::new();
        if let Some(path) = path {
            let source = read_campaign_file(path)
                .map_err(|message| ConfigErrors(vec![ConfigError::unplaced(path, message)]))?;
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
            span: None,
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
            errors.sort_by_key(|e| (e.line.is_none(), e.line, e.span.map(|s| s.start)));
            return Err(ConfigErrors(errors));
        }
        let (products, products_at, product_places) = if overrides.products.is_empty() {
            (
                settings.products,
                settings.products_at,
                settings.product_places,
            )
        } else {
            (overrides.products.clone(), None, Vec::new())
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
            products_at,
            product_places,
            sender: settings.sender,
            postal_address: settings.postal_address,
            unsubscribe_url: settings.unsubscribe_url,
            unsubscribe_url_at: settings.unsubscribe_url_at,
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
            let message = format!("not valid TOML: {message}");
            match (e.span(), deepest_line(reader.source)) {
                (Some(range), _) => reader.error(range, message),
                (None, Some(offset)) => reader.error_on_line(offset, message),
                (None, None) => reader
                    .errors
                    .push(ConfigError::unplaced(reader.path, message)),
            }
            return None;
        }
    };
    for (key, value) in document.get_ref().iter() {
        let name: &str = key.get_ref();
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
                    settings.smtp = read_smtp(reader, t, key.span());
                }
            }
            _ => {
                let hint = suggest(name, TABLES)
                    .map(|s| format!("did you mean [{s}]?"))
                    .unwrap_or_else(|| format!("expected one of [{}]", TABLES.join("], [")));
                reader.error(key.span(), format!("unknown table or key `{name}`; {hint}"));
            }
        }
    }
    Some(settings)
}

#[cfg(test)]
mod tests {
    use super::sections::parse_rate;
    use super::*;
    use crate::campaign::{Rate, Tls};
    use crate::span::Span;

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
        assert_eq!(campaign.products_at.map(|p| p.line), Some(7));
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
        assert_eq!(
            campaign.smtp.as_ref().unwrap().password_at,
            Some(Place {
                line: 6,
                span: Span::new(0, 8)
            })
        );
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

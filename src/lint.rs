//! `mailgate lint`: campaign → draft → list → every row, into one stream of
//! diagnostics with levels applied in one place ([`Sink`]).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use xxhash_rust::xxh3::xxh3_64;

use crate::campaign::Campaign;
use crate::diagnostic::{Diagnostic, Finding, Severity};
use crate::draft::{Draft, DraftError, Templates};
use crate::judge::{Basis, Judge};
use crate::recipients::suppression::Suppression;
use crate::recipients::{Field, InputError, RecipientReader, Row};
use crate::report::{Emitter, Summary};
use crate::rules::{self, Levels, RuleId};

/// Why a lint could not be carried out (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error("cannot write the report: {0}")]
    Output(#[from] std::io::Error),
}

/// Applies levels, counts, and forwards to the emitter: the one place where
/// `[rules]` and the jurisdiction take effect.
pub struct Sink<'e> {
    levels: Levels,
    emitter: &'e mut dyn Emitter,
    pub(crate) summary: Summary,
}

impl<'e> Sink<'e> {
    pub fn new(levels: Levels, emitter: &'e mut dyn Emitter) -> Self {
        Sink {
            levels,
            emitter,
            summary: Summary::default(),
        }
    }

    /// The severity `rule` would be reported with (`None`: allowed).
    pub fn severity(&self, rule: RuleId) -> Option<Severity> {
        self.levels.severity(rule)
    }

    /// Reports a finding; returns its severity, or `None` when the rule is allowed.
    pub fn report(&mut self, finding: Finding) -> std::io::Result<Option<Severity>> {
        let Some(severity) = self.levels.severity(finding.rule) else {
            return Ok(None);
        };
        match severity {
            Severity::Error => self.summary.errors += 1,
            Severity::Warning => self.summary.warnings += 1,
            Severity::Info => self.summary.infos += 1,
        }
        let scope = finding.rule.info().scope;
        self.emitter.diagnostic(&Diagnostic {
            finding,
            severity,
            scope,
        })?;
        Ok(Some(severity))
    }
}

/// What is known about one distinct address (by a 64-bit hash of its
/// lower-case form, to keep memory at ~16 bytes an address for 10M rows).
#[derive(Clone, Copy)]
struct AddressState {
    first_line: u64,
    blocked: bool,
}

/// Variables every template may use besides the CSV's columns.
pub const BUILTIN_VARIABLES: &[&str] = &["email", "unsubscribe_url"];

/// Runs the whole lint, writing diagnostics to `emitter`. Returns the
/// summary; the caller renders it and chooses the exit code.
pub fn lint(campaign: &Campaign, emitter: &mut dyn Emitter) -> Result<Summary, LintError> {
    let mut sink = Sink::new(campaign.levels(), emitter);
    let campaign_file = campaign.display_path();

    // Campaign rules known from the file alone.
    for finding in rules::campaign::check_config(campaign) {
        sink.report(finding)?;
    }

    // The draft, its templates and its rules.
    let draft = Draft::load(&campaign.draft)?;
    let draft_file = display(&campaign.draft);
    let (templates, problems) = Templates::compile(&draft);
    for problem in problems {
        let field = rules::draft::template_field(&draft, problem.source);
        sink.report(
            Finding::new(RuleId::TemplateError, problem.message)
                .file(&draft_file)
                .line(problem.line)
                .field(field),
        )?;
    }
    for finding in rules::draft::check(&draft, campaign) {
        sink.report(finding)?;
    }

    // The list.
    let mut suppression = Suppression::default();
    for path in &campaign.suppression {
        suppression.load(path)?;
    }
    let mut reader = RecipientReader::open(&campaign.recipients, &campaign.columns)?;
    let list_file = display(&campaign.recipients);
    let listmonk = reader.preset() == crate::recipients::Preset::Listmonk;
    for finding in rules::list::check_header(reader.columns(), &templates, &list_file) {
        sink.report(finding)?;
    }
    let mut known_variables: BTreeSet<String> = reader
        .columns()
        .columns
        .iter()
        .map(|c| c.var.clone())
        .chain(BUILTIN_VARIABLES.iter().map(|v| v.to_string()))
        .collect();
    // A listmonk export's attribute keys are known only after the last row.
    if !listmonk {
        for finding in rules::draft::unknown_merge_fields(&templates, &draft, &known_variables) {
            sink.report(finding)?;
        }
    }

    let judge = Judge::new(campaign, &suppression);
    let mut addresses: HashMap<u64, AddressState> = HashMap::new();
    let mut lower = String::new();
    let mut relies_on_soft_opt_in = false;
    let mut purchased_promoted = vec![false; campaign.products.len()];
    let mut recipients = 0u64;
    let mut values = rules::list::ValueScan::new(reader.columns());
    let header_of = |field: Field, columns: &crate::recipients::ColumnMap| -> String {
        columns.header_of(field).unwrap_or(field.name()).to_owned()
    };
    let columns = reader.columns().clone();

    while let Some(row) = reader.next_row()? {
        recipients += 1;
        let line = row.line();
        let email = row.get(Field::Email);
        lower.clear();
        lower.push_str(email);
        lower.make_ascii_lowercase();
        if !lower.is_ascii() {
            lower = lower.to_lowercase();
        }
        let key = xxh3_64(lower.as_bytes());
        let earlier = addresses.get(&key).map(|s| s.first_line);
        let verdict = judge.judge(&row, earlier);

        let mut error = false;
        for reason in verdict.reasons {
            let finding = Finding::new(reason.rule, reason.message)
                .recipient(email)
                .file(&list_file)
                .line(line)
                .field(header_of(reason.field, &columns));
            error |= sink.report(finding)? == Some(Severity::Error);
        }
        if !verdict.stopped {
            for variable in templates.empty_fields_shown(&|name| row_var(&row, name)) {
                let finding = Finding::new(
                    RuleId::EmptyMergeField,
                    format!("`{variable}` is empty, so the recipient sees a gap"),
                )
                .recipient(email)
                .file(&list_file)
                .line(line)
                .field(
                    columns
                        .columns
                        .iter()
                        .find(|c| c.var == variable)
                        .map_or(variable, |c| c.header.as_str()),
                );
                error |= sink.report(finding)? == Some(Severity::Error);
            }
            if verdict.basis != Some(Basis::Consent)
                && Judge::is_customer(&row)
                && !is_purchased_list(&row)
            {
                relies_on_soft_opt_in = true;
            }
        }
        judge.mark_purchased_products(&row, &mut purchased_promoted);
        values.scan(&row);

        addresses
            .entry(key)
            .and_modify(|s| s.blocked |= error)
            .or_insert(AddressState {
                first_line: line,
                blocked: error,
            });
    }

    // What could only be known after the last row.
    if let Some(line) = reader.first_non_utf8_line() {
        sink.report(
            Finding::new(
                RuleId::NonUtf8,
                "the file is not UTF-8 and was read as Windows-1252; save it as UTF-8 \
                 (in Excel: \"CSV UTF-8\") to be sure names come out right",
            )
            .file(&list_file)
            .line(line),
        )?;
    }
    for finding in values.finish(&list_file) {
        sink.report(finding)?;
    }
    if listmonk {
        known_variables.extend(reader.attribute_keys().iter().cloned());
        for finding in rules::draft::unknown_merge_fields(&templates, &draft, &known_variables) {
            sink.report(finding)?;
        }
    }
    for finding in rules::campaign::check_products(
        campaign,
        campaign_file.as_deref(),
        relies_on_soft_opt_in,
        &purchased_promoted,
    ) {
        sink.report(finding)?;
    }

    let mut summary = sink.summary;
    summary.recipients = recipients;
    summary.blocked = addresses.values().filter(|s| s.blocked).count() as u64;
    summary.sendable = addresses.len() as u64 - summary.blocked;
    Ok(summary)
}

fn row_var<'r>(row: &'r Row<'_>, name: &str) -> Option<&'r str> {
    row.var(name)
}

fn is_purchased_list(row: &Row<'_>) -> bool {
    crate::judge::is_purchased_source(row.get(Field::ListSource))
}

/// A path as the user would recognise it in a message.
pub fn display(path: &Path) -> String {
    let cwd = std::env::current_dir().ok();
    cwd.as_deref()
        .and_then(|cwd| path.strip_prefix(cwd).ok())
        .unwrap_or(path)
        .display()
        .to_string()
}

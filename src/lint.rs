//! `mailgate lint`, the pipeline: campaign → draft → list → every row,
//! into one stream of diagnostics with levels applied in one place
//! ([`Sink`]). The checks are the rules' own (`crate::rules`); the
//! per-recipient files of `--report-out` and `--sendable-out` are a second
//! pass over the list (`outputs`).

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::address_book::AddressBook;
use crate::campaign::Campaign;
use crate::diagnostic::{Diagnostic, Finding, Severity};
use crate::draft::templates::UnsubscribeTemplate;
use crate::draft::{Draft, DraftError, Templates};
use crate::judge::{Judge, Verdict};
use crate::paths::display;
use crate::recipients::suppression::Suppression;
use crate::recipients::{ColumnMap, Dialect, Field, InputError, RecipientReader, Row};
use crate::report::{Emitter, Summary};
use crate::rules::draft::{template_error, unknown_merge_field};
use crate::rules::list::{AfterLastRow, List, ListChecks, unreadable_suppression_line};
use crate::rules::recipient::MergeChecks;
use crate::rules::{self, Levels, RuleId};

mod outputs;
use outputs::{Written, write_outputs};

/// Why a lint could not be carried out (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum LintError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(transparent)]
    Draft(#[from] DraftError),
    /// The io error is the source (shown after this, once, by `{:#}`).
    #[error("cannot write the report")]
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
        let Some(severity) = self.count(finding.rule) else {
            return Ok(None);
        };
        let scope = finding.rule.info().scope;
        self.emitter
            .diagnostic(&Diagnostic::new(&finding, severity, scope))?;
        Ok(Some(severity))
    }

    /// Reports a finding about one row, borrowing every text: the lint's
    /// hot path, which allocates nothing per diagnostic.
    fn report_row(
        &mut self,
        at: &RowAt<'_>,
        finding: &RowFinding<'_>,
    ) -> std::io::Result<Option<Severity>> {
        let Some(severity) = self.count(finding.rule) else {
            return Ok(None);
        };
        self.emitter.diagnostic(&Diagnostic {
            rule: finding.rule,
            severity,
            scope: finding.rule.info().scope,
            message: &finding.message,
            recipient: Some(at.recipient),
            file: Some(at.file),
            line: Some(at.line),
            field: Some(finding.field),
            // The reader keeps a row's values, not where its cells were on
            // the line (quotes and delimiters are gone): no span.
            span: None,
        })?;
        Ok(Some(severity))
    }

    /// Passes a row's cells to an emitter that shows them (after the row's
    /// diagnostics; see [`Emitter::wants_cells`]).
    fn cells(&mut self, line: u64, cells: &[crate::report::Cell<'_>]) -> std::io::Result<()> {
        self.emitter.cells(line, cells)
    }

    /// The severity of `rule`, counted in the summary; `None` when allowed.
    fn count(&mut self, rule: RuleId) -> Option<Severity> {
        let severity = self.levels.severity(rule)?;
        match severity {
            Severity::Error => self.summary.errors += 1,
            Severity::Warning => self.summary.warnings += 1,
            Severity::Info => self.summary.infos += 1,
        }
        Some(severity)
    }
}

/// Runs the whole lint, writing diagnostics to `emitter`. Returns the
/// summary; the caller renders it and chooses the exit code.
pub fn lint(
    campaign: &Campaign,
    emitter: &mut dyn Emitter,
    outputs: &Outputs,
) -> Result<Summary, LintError> {
    lint_with_addresses(campaign, emitter, outputs).map(|(summary, _)| summary)
}

/// [`lint`], also returning every address with whether it is sendable (what
/// `send` needs to pick its recipients).
pub fn lint_with_addresses(
    campaign: &Campaign,
    emitter: &mut dyn Emitter,
    outputs: &Outputs,
) -> Result<(Summary, AddressBook), LintError> {
    let mut sink = Sink::new(Levels::for_campaign(campaign), emitter);

    // Campaign rules known from the file alone.
    for finding in rules::campaign::check_config(campaign) {
        sink.report(finding)?;
    }

    // The draft, its templates and its rules.
    let draft = Draft::load(&campaign.draft)?;
    let draft_file = display(&campaign.draft);
    let (templates, problems) = Templates::compile(&draft);
    for finding in template_error::in_draft(&draft, problems, &draft_file) {
        sink.report(finding)?;
    }
    for finding in rules::draft::check(&draft, campaign) {
        sink.report(finding)?;
    }

    // The list.
    let mut suppression = Suppression::default();
    for path in &campaign.suppression {
        let loaded = suppression.load(path)?;
        for finding in unreadable_suppression_line::findings(&loaded.unreadable, &display(path)) {
            sink.report(finding)?;
        }
    }
    let mut reader = RecipientReader::open(&campaign.recipients, &campaign.columns)?;
    let list_file = display(&campaign.recipients);
    let listmonk = reader.preset() == crate::recipients::Preset::Listmonk;
    if listmonk {
        sink.emitter.note(LISTMONK_NOTE);
    }
    // The campaign's unsubscribe_url is a template too.
    let unsubscribe = match campaign
        .unsubscribe_url
        .as_deref()
        .map(UnsubscribeTemplate::compile)
    {
        Some(Err(message)) => {
            sink.report(template_error::in_unsubscribe_url(campaign, &message))?;
            None
        }
        Some(Ok(template)) => Some(template),
        None => None,
    };
    let mut used_variables = templates.variables().clone();
    if let Some(template) = &unsubscribe {
        used_variables.extend(template.variables().iter().cloned());
    }
    let used = templates.all_compiled().then_some(&used_variables);
    let columns = reader.columns().clone();
    let list = List {
        columns: &columns,
        used_by_templates: used,
        file: &list_file,
    };
    let (mut list_checks, findings) = ListChecks::start(&list);
    for finding in findings {
        sink.report(finding)?;
    }
    // A listmonk export's attribute keys are known only after the last row.
    if !listmonk {
        report_unknown_variables(
            &mut sink,
            &templates,
            unsubscribe.as_ref(),
            &draft,
            campaign,
            &columns,
            &BTreeSet::new(),
        )?;
    }

    let judge = Judge::new(campaign, &suppression);
    let mut book = AddressBook::default();
    let list_bytes = std::fs::metadata(&campaign.recipients).map_or(0, |m| m.len());
    let mut sampled_bytes = 0u64;
    let mut products = rules::campaign::ProductTally::new(campaign);
    let mut recipients = 0u64;
    let merge = MergeChecks::new(
        &templates,
        draft.subject.is_some(),
        unsubscribe.as_ref(),
        &reader,
        &columns,
    );
    let rows = RowChecker::new(&judge, merge, &columns);
    // Reused from row to row.
    let mut verdict = Verdict::default();
    let mut findings = Vec::new();
    // Rows read ahead whose address book slots are fetched already.
    let mut warmed = 0;
    // The columns of logical fields, for an emitter that shows the cells
    // of rows with findings (HTML); asked once, not per row.
    let shown_fields: Vec<(Field, &str)> = if sink.emitter.wants_cells() {
        Field::ALL
            .iter()
            .filter_map(|&field| columns.header_of(field).map(|header| (field, header)))
            .collect()
    } else {
        Vec::new()
    };

    while let Some(row) = reader.next_row()? {
        recipients += 1;
        let key = row.address_hash();
        if warmed == 0 {
            // Fetch the address book slots of the next rows read ahead at
            // once: their cache misses overlap instead of stalling the loop
            // one row at a time.
            warmed = book.warm(row.hashes_ahead().take(WARM_AHEAD));
        } else {
            warmed -= 1;
        }
        debug_assert_eq!(
            key,
            book.key(row.get(Field::Email)),
            "the reader's address hash"
        );
        let (earlier, slot) = book.visit(key, row.line());
        rows.check(&row, key, earlier, &mut verdict, &mut findings);
        if !findings.is_empty() {
            let at = RowAt {
                recipient: row.get(Field::Email),
                file: &list_file,
                line: row.line(),
            };
            for finding in &findings {
                sink.report_row(&at, finding)?;
            }
            if !shown_fields.is_empty() {
                let cells: Vec<crate::report::Cell<'_>> = shown_fields
                    .iter()
                    .map(|&(field, header)| crate::report::Cell {
                        field: field.name(),
                        header,
                        value: row.get(field),
                    })
                    .collect();
                sink.cells(row.line(), &cells)?;
            }
        }
        products.row(&judge, &row, &verdict);
        list_checks.row(&row);
        // The judgement decides who is blocked (SPEC §2), and so does a
        // message that cannot be built (send would refuse it); the levels
        // applied in the sink only decide what is reported.
        if verdict.blocked() || findings.iter().any(|f| f.rule == RuleId::InvalidMergeValue) {
            book.block(slot);
        }
        // Size the address book once, from the first rows, rather than let
        // it double (and hold both tables at once) as it fills.
        if recipients <= RESERVE_SAMPLE_ROWS {
            sampled_bytes += row.values().map(|v| v.len() as u64 + 1).sum::<u64>();
            if recipients == RESERVE_SAMPLE_ROWS {
                let estimate = list_bytes / sampled_bytes.max(1) * RESERVE_SAMPLE_ROWS;
                book.reserve(estimate.saturating_sub(recipients));
            }
        }
    }

    // What could only be known after the last row.
    let end = AfterLastRow {
        first_non_utf8_line: reader.first_non_utf8_line(),
    };
    for finding in list_checks.finish(&list, &end) {
        sink.report(finding)?;
    }
    if listmonk {
        report_unknown_variables(
            &mut sink,
            &templates,
            unsubscribe.as_ref(),
            &draft,
            campaign,
            &columns,
            reader.attribute_keys(),
        )?;
    }
    for finding in products.finish(campaign) {
        sink.report(finding)?;
    }

    let mut summary = sink.summary;
    summary.recipients = recipients;
    summary.blocked = book.blocked();
    summary.sendable = book.len() - summary.blocked;

    if outputs.report.is_some() || outputs.sendable.is_some() {
        let dialect = Dialect::of(
            &campaign.recipients,
            reader.delimiter(),
            reader.first_non_utf8_line().is_some(),
        )
        .map_err(|e| InputError::new(&campaign.recipients, None, e.to_string()))?;
        let kept = list_checks.kept_columns(&list);
        let written = Written { dialect, kept };
        write_outputs(campaign, &rows, &book, outputs, &written)?;
    }
    Ok((summary, book))
}

/// `unknown-merge-field` for the draft's templates and the unsubscribe URL.
fn report_unknown_variables(
    sink: &mut Sink<'_>,
    templates: &Templates,
    unsubscribe: Option<&UnsubscribeTemplate>,
    draft: &Draft,
    campaign: &Campaign,
    columns: &ColumnMap,
    attribute_keys: &BTreeSet<String>,
) -> std::io::Result<()> {
    for finding in unknown_merge_field::check_templates(
        templates,
        unsubscribe,
        draft,
        campaign,
        columns,
        attribute_keys,
    ) {
        sink.report(finding)?;
    }
    Ok(())
}

/// What a listmonk export does not hold, said when one is recognised.
const LISTMONK_NOTE: &str = "this is a listmonk subscriber export: it records no consent (date and \
     source) and no per-list subscription status, only the subscriber's overall status \
     (blocklisted means opted out); give consent_at and consent_source as attributes, or \
     export only the list's confirmed subscribers";

/// Files written besides the report (`--report-out`, `--sendable-out`).
#[derive(Clone, Debug, Default)]
pub struct Outputs {
    pub report: Option<std::path::PathBuf>,
    pub sendable: Option<std::path::PathBuf>,
}

/// Rows read before the address book is sized from their average length.
const RESERVE_SAMPLE_ROWS: u64 = 1024;

/// Rows whose address book slots are fetched in one go. Enough for their
/// cache misses to overlap, few enough that the slots are still in the
/// cache when their rows come: with the whole batch of 1,024 fetched at
/// once, the row thread took ~6 % more CPU at 10M rows, with 16 ~10 % more
/// (perf samples of the row thread, three runs each, interleaved).
const WARM_AHEAD: usize = 64;

/// Where a row's findings point: the recipient, the file and the line.
struct RowAt<'a> {
    recipient: &'a str,
    file: &'a str,
    line: u64,
}

/// A recipient finding before levels are applied, borrowing its texts from
/// the judge and the header where it can.
struct RowFinding<'a> {
    rule: RuleId,
    message: Cow<'a, str>,
    /// The CSV column as written in the header.
    field: &'a str,
}

/// Judges one row and locates its findings; shared by the lint pass and the
/// second pass that writes per-recipient files.
struct RowChecker<'a, 's> {
    judge: &'a Judge<'s>,
    /// The recipient rules asked after the judge.
    merge: MergeChecks<'a>,
    /// The header of each logical field (its name when no column holds it).
    headers: [&'a str; Field::ALL.len()],
    columns: &'a ColumnMap,
}

impl<'a, 's> RowChecker<'a, 's> {
    fn new(judge: &'a Judge<'s>, merge: MergeChecks<'a>, columns: &'a ColumnMap) -> Self {
        RowChecker {
            judge,
            merge,
            headers: Field::ALL.map(|field| columns.header_of(field).unwrap_or(field.name())),
            columns,
        }
    }

    /// Judges `row` into `verdict` and puts its findings in `findings`
    /// (both are cleared first, and reused from row to row).
    fn check(
        &self,
        row: &Row<'_>,
        address_hash: u64,
        earlier: Option<u64>,
        verdict: &mut Verdict<'a>,
        findings: &mut Vec<RowFinding<'a>>,
    ) {
        // The strings of the last row's messages go back to the verdict,
        // which writes this row's messages into them.
        for finding in findings.drain(..) {
            verdict.recycle(finding.message);
        }
        self.judge.judge_into(row, address_hash, earlier, verdict);
        // Most rows have no reason at all; a plain loop for the others
        // (`extend` over a draining map cost more than the moves).
        if !verdict.reasons.is_empty() {
            for reason in verdict.reasons.drain(..) {
                findings.push(RowFinding {
                    rule: reason.rule,
                    message: reason.message,
                    field: self.headers[reason.field.index()],
                });
            }
        }
        if !verdict.stopped {
            self.merge.check(
                row,
                || verdict.message_buffer(),
                |rule, message, field| {
                    findings.push(RowFinding {
                        rule,
                        message,
                        field,
                    })
                },
            );
        }
    }
}

//! `--format html`: one self-contained page for the person who decides
//! whether the mailing goes out (SPEC §4). Inline CSS and SVG only — no
//! script, font, image or style sheet from anywhere, and a Content Security
//! Policy that forbids loading any — so it opens the same from a USB stick
//! as from a mail attachment, and looking at it tells no one anything.
//!
//! What it shows: the campaign and the date; sendable and blocked as big
//! numbers; a bar chart of the reasons (SVG drawn here); the checks of the
//! draft, the list and the campaign file with the line concerned; a preview
//! of the message one sendable recipient would get, rendered by `send`'s
//! own code, in a sandboxed `<iframe srcdoc>`; and for every recipient rule
//! a table of its rows with the cells that decided them. Each rule's
//! `explain` text is one click away (`<details>`).
//!
//! Memory and size stay bounded whatever the list's length: each rule keeps
//! its first [`ROWS_PER_RULE`] rows (cells cut at [`CELL_CHARS`]) and counts
//! the rest. Every value from the list, the draft or the campaign is
//! HTML-escaped; control characters in list values are shown as escapes.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::human::thousands;
use super::source::SourceLines;
use super::{Cell, Emitter, Preview, Summary};
use crate::campaign::Campaign;
use crate::diagnostic::{Diagnostic, Scope, Severity, Span};
use crate::rules::RuleId;

/// Rows kept per rule; the rest are counted.
pub const ROWS_PER_RULE: usize = 1_000;
/// Characters of a cell or message shown; longer ones are cut with `…`.
pub const CELL_CHARS: usize = 200;

/// The list's logical fields that decide each recipient rule (SPEC §2),
/// shown as the rule's table columns when the list has them.
fn deciding_fields(rule: &str) -> &'static [&'static str] {
    match rule {
        "no-consent" => &["customer", "purchased", "consent_at", "consent_source"],
        "unrelated-product" => &["customer", "purchased", "last_purchase_at", "list_source"],
        "purchased-without-consent" => &["list_source", "consent_at", "consent_source"],
        "incomplete-consent" => &["consent_at", "consent_source"],
        "out-of-scope-consent" => &["consent_at", "consent_source", "consent_scope"],
        "unsubscribed" => &["unsubscribed_at"],
        "invalid-address" => &["email"],
        "invalid-date" => &["consent_at", "last_purchase_at"],
        "stale-customer" => &["purchased", "last_purchase_at"],
        "stale-consent" => &["consent_at", "consent_source"],
        "duplicate-address" => &["email"],
        _ => &[],
    }
}

/// The recipient rules that block whom they fire for, whatever their level
/// (SPEC §2); `stale-customer` blocks only under `ca`.
fn blocks(rule: &str, campaign: &CampaignInfo) -> bool {
    match rule {
        "invalid-address"
        | "unsubscribed"
        | "no-consent"
        | "unrelated-product"
        | "purchased-without-consent"
        | "incomplete-consent"
        | "out-of-scope-consent"
        | "invalid-date" => true,
        "stale-customer" => campaign.jurisdiction == "ca",
        _ => false,
    }
}

/// What the page says about the campaign.
struct CampaignInfo {
    name: String,
    /// When the report was made.
    generated: String,
    /// The date rules measure ages against.
    today: String,
    jurisdiction: String,
    products: Vec<String>,
    recipients: String,
    draft: String,
}

/// One diagnostic kept for the page.
struct Entry {
    file: Option<String>,
    line: Option<u64>,
    recipient: Option<String>,
    message: String,
    field: Option<String>,
    /// What on `line` the finding is about (see [`Span`]).
    span: Option<Span>,
    /// The deciding cells: logical field, header, value.
    cells: Vec<(&'static str, String, String)>,
}

/// One rule's diagnostics: how many, and the first [`ROWS_PER_RULE`].
struct Section {
    rule: RuleId,
    severity: Severity,
    scope: Scope,
    count: u64,
    entries: Vec<Entry>,
}

/// Collects a bounded part of the diagnostics; writes the page in `finish`.
pub struct HtmlEmitter {
    campaign: CampaignInfo,
    /// By rule discriminant.
    sections: Vec<Option<Section>>,
    /// Entries of the current row still waiting for its cells: rule
    /// discriminant and entry index.
    pending: Vec<(usize, usize)>,
    preview: Option<Preview>,
    /// Lines of the draft and campaign files (and a list's header), read
    /// once when first shown.
    sources: SourceLines,
}

impl HtmlEmitter {
    /// An emitter for `campaign`'s report. The date shown is now, or
    /// `SOURCE_DATE_EPOCH` when set (reproducible output, as for builds).
    pub fn new(campaign: &Campaign) -> Self {
        let generated = std::env::var("SOURCE_DATE_EPOCH")
            .ok()
            .and_then(|s| s.trim().parse::<i64>().ok())
            .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_else(|| {
                jiff::Timestamp::now()
                    .strftime("%Y-%m-%d %H:%M UTC")
                    .to_string()
            });
        HtmlEmitter {
            campaign: CampaignInfo {
                name: campaign.name.clone(),
                generated,
                today: campaign.today.to_string(),
                jurisdiction: format!("{:?}", campaign.jurisdiction).to_lowercase(),
                products: campaign.products.clone(),
                recipients: crate::paths::display(&campaign.recipients),
                draft: crate::paths::display(&campaign.draft),
            },
            sections: Vec::new(),
            pending: Vec::new(),
            preview: None,
            sources: SourceLines::default(),
        }
    }
}

/// `text` cut to [`CELL_CHARS`] characters, control characters escaped.
fn cut(text: &str) -> String {
    let text = crate::escape::control_chars(text);
    match text.char_indices().nth(CELL_CHARS) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.into_owned(),
    }
}

/// Appends `text` HTML-escaped (for element content and quoted attributes).
fn esc(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", thousands(n), if n == 1 { one } else { many })
}

impl Emitter for HtmlEmitter {
    fn diagnostic(&mut self, d: &Diagnostic) -> io::Result<()> {
        let slot = d.rule as usize;
        if self.sections.len() <= slot {
            self.sections.resize_with(slot + 1, || None);
        }
        if d.scope == Scope::Recipient
            && let Some(&(rule, index)) = self.pending.first()
            && self.sections[rule]
                .as_ref()
                .is_some_and(|s| s.entries[index].line != d.line)
        {
            // A new row: what waited for the last one's cells has them not
            // (an emitter wrapper that does not pass them on).
            self.pending.clear();
        }
        let section = self.sections[slot].get_or_insert_with(|| Section {
            rule: d.rule,
            severity: d.severity,
            scope: d.scope,
            count: 0,
            entries: Vec::new(),
        });
        section.count += 1;
        if section.entries.len() >= ROWS_PER_RULE {
            return Ok(());
        }
        if d.scope == Scope::Recipient {
            self.pending.push((slot, section.entries.len()));
        }
        section.entries.push(Entry {
            file: d.file.map(str::to_owned),
            line: d.line,
            recipient: d.recipient.map(cut),
            message: cut(d.message),
            field: d.field.map(cut),
            span: d.span,
            cells: Vec::new(),
        });
        Ok(())
    }

    fn wants_cells(&self) -> bool {
        true
    }

    fn cells(&mut self, line: u64, cells: &[Cell<'_>]) -> io::Result<()> {
        for (rule, index) in self.pending.drain(..) {
            let Some(section) = self.sections[rule].as_mut() else {
                continue;
            };
            let entry = &mut section.entries[index];
            if entry.line != Some(line) {
                continue;
            }
            for &field in deciding_fields(section.rule.name()) {
                if let Some(cell) = cells.iter().find(|c| c.field == field) {
                    entry.cells.push((field, cut(cell.header), cut(cell.value)));
                }
            }
        }
        Ok(())
    }

    fn wants_preview(&self) -> bool {
        true
    }

    fn preview(&mut self, preview: Preview) {
        self.preview = Some(preview);
    }

    fn plain(&self) -> bool {
        true
    }

    fn finish(&mut self, summary: &Summary, out: &mut dyn Write) -> io::Result<()> {
        let sections_owned = std::mem::take(&mut self.sections);
        let mut sections: Vec<&Section> = sections_owned.iter().flatten().collect();
        // Errors first; within a severity, the most rows first.
        sections.sort_by_key(|s| (std::cmp::Reverse(s.severity), std::cmp::Reverse(s.count)));
        let mut page = String::with_capacity(1 << 16);
        self.head(&mut page, summary);
        numbers(&mut page, summary);
        chart(&mut page, &sections, &self.campaign);
        out.write_all(page.as_bytes())?;
        page.clear();

        let checks: Vec<&&Section> = sections
            .iter()
            .filter(|s| s.scope != Scope::Recipient)
            .collect();
        page.push_str("<section id=\"checks\"><h2>The draft, the list and the campaign file</h2>");
        if checks.is_empty() {
            page.push_str("<p class=\"ok\">No findings.</p>");
        }
        for section in checks {
            check_section(&mut page, section, &mut self.sources);
        }
        page.push_str("</section>\n");
        out.write_all(page.as_bytes())?;
        page.clear();

        preview_section(&mut page, self.preview.as_ref(), summary);
        out.write_all(page.as_bytes())?;
        page.clear();

        page.push_str("<section id=\"recipients\"><h2>Recipients, rule by rule</h2>");
        let mut any = false;
        for section in sections.iter().filter(|s| s.scope == Scope::Recipient) {
            any = true;
            recipient_section(&mut page, section);
            out.write_all(page.as_bytes())?;
            page.clear();
        }
        if !any {
            page.push_str("<p class=\"ok\">No recipient findings.</p>");
        }
        page.push_str("</section>\n");
        let _ = write!(
            page,
            "<footer>Made by mailgate {} · <code>mailgate lint --format html</code> · \
             self-contained: this page loads nothing from anywhere.</footer>\n</main>\n\
             </body>\n</html>\n",
            super::VERSION
        );
        out.write_all(page.as_bytes())
    }
}

/// The page's style: system fonts, no external resource.
const STYLE: &str = include_str!("html.css");

/// The policy of the page and of the message preview inside it: nothing is
/// loaded from anywhere, no script runs; inline styles and `data:` images
/// only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
                   frame-src 'self' about:; base-uri 'none'; form-action 'none'";

impl HtmlEmitter {
    fn head(&self, page: &mut String, summary: &Summary) {
        let c = &self.campaign;
        page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        let _ = writeln!(
            page,
            "<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        );
        page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        page.push_str("<meta name=\"referrer\" content=\"no-referrer\">\n<title>");
        esc(page, &c.name);
        page.push_str(" · mailgate report</title>\n<style>");
        page.push_str(STYLE);
        page.push_str("</style>\n</head>\n<body>\n<main>\n<header><h1>");
        esc(page, &c.name);
        page.push_str("</h1><p>Checked <time>");
        esc(page, &c.generated);
        page.push_str("</time>");
        if !c.generated.starts_with(&c.today) {
            page.push_str(" · ages measured as of ");
            esc(page, &c.today);
        }
        page.push_str(" · jurisdiction <b>");
        esc(page, &c.jurisdiction);
        page.push_str("</b>");
        if !c.products.is_empty() {
            page.push_str(" · promotes <b>");
            esc(page, &c.products.join(", "));
            page.push_str("</b>");
        }
        page.push_str("</p><p>List <code>");
        esc(page, &c.recipients);
        page.push_str("</code> · draft <code>");
        esc(page, &c.draft);
        let _ = writeln!(
            page,
            "</code> · {} in the list</p></header>",
            plural(summary.recipients, "row", "rows")
        );
    }
}

/// A draft, list or campaign rule: each finding with its place and the
/// line it is about.
fn check_section(page: &mut String, section: &Section, sources: &mut SourceLines) {
    rule_heading(page, section, "finding", "findings");
    page.push_str("<ul class=\"findings\">");
    for entry in &section.entries {
        page.push_str("<li><span class=\"loc\">");
        let mut at = entry.file.clone().unwrap_or_default();
        if let Some(line) = entry.line {
            let _ = write!(at, ":{line}");
        }
        if let Some(field) = &entry.field {
            let _ = write!(at, " ({field})");
        }
        esc(page, &crate::escape::control_chars(&at));
        page.push_str("</span><br>");
        esc(page, &entry.message);
        if let Some([before, within, after]) = source_line(section.scope, entry, sources) {
            let _ = write!(
                page,
                "<pre class=\"source\"><span class=\"ln\">{}</span>",
                entry.line.unwrap_or(0)
            );
            esc(page, &before);
            page.push_str("<mark>");
            esc(page, &within);
            page.push_str("</mark>");
            esc(page, &after);
            page.push_str("</pre>");
        }
        page.push_str("</li>");
    }
    page.push_str("</ul>");
    more(page, section);
    page.push_str("</section>\n");
}

/// The line a draft, campaign or list-header finding points at, in three
/// pieces: before, what the finding is about (its span, else the line but
/// its indentation), after — each cut short, the first from its start.
fn source_line(scope: Scope, entry: &Entry, sources: &mut SourceLines) -> Option<[String; 3]> {
    let (file, line) = (entry.file.as_ref()?, entry.line?);
    let (text, underline) = sources.shown(scope, file, line, entry.span)?;
    let before = &text[..underline.start];
    let count = before.chars().count();
    let before = match before
        .char_indices()
        .nth(count.saturating_sub(CELL_CHARS / 2))
    {
        Some((at, _)) if at > 0 => format!("…{}", &before[at..]),
        _ => before.to_owned(),
    };
    Some([
        before,
        cut(&text[underline.clone()]),
        cut(text[underline.end..].trim_end()),
    ])
}

fn numbers(page: &mut String, summary: &Summary) {
    let _ = writeln!(
        page,
        "<div class=\"numbers\">\
         <div class=\"number sendable\" id=\"sendable\"><span class=\"value\">{}</span>\
         <span class=\"label\">sendable addresses</span></div>\
         <div class=\"number blocked\" id=\"blocked\"><span class=\"value\">{}</span>\
         <span class=\"label\">blocked addresses</span></div>\
         <div class=\"number\" id=\"errors\"><span class=\"value\">{}</span>\
         <span class=\"label\">{}</span></div>\
         <div class=\"number\" id=\"warnings\"><span class=\"value\">{}</span>\
         <span class=\"label\">{}</span></div></div>",
        thousands(summary.sendable),
        thousands(summary.blocked),
        thousands(summary.errors),
        if summary.errors == 1 {
            "error"
        } else {
            "errors"
        },
        thousands(summary.warnings),
        if summary.warnings == 1 {
            "warning"
        } else {
            "warnings"
        },
    );
    if summary.errors > 0 {
        page.push_str(
            "<p class=\"verdict bad\">Not ready to send: fix the errors below, or send only to \
             the sendable addresses (<code>mailgate send --skip-blocked</code>) once the draft \
             and campaign have no errors.</p>\n",
        );
    } else {
        page.push_str("<p class=\"verdict good\">No errors: ready to send.</p>\n");
    }
}

/// A horizontal bar chart of the recipient rules by rows, drawn as SVG.
fn chart(page: &mut String, sections: &[&Section], campaign: &CampaignInfo) {
    let mut bars: Vec<(&str, u64, bool)> = sections
        .iter()
        .filter(|s| s.scope == Scope::Recipient)
        .map(|s| (s.rule.name(), s.count, blocks(s.rule.name(), campaign)))
        .collect();
    page.push_str("<section id=\"reasons\"><h2>Why recipients are blocked or flagged</h2>");
    if bars.is_empty() {
        page.push_str("<p class=\"ok\">No recipient is blocked or flagged.</p></section>\n");
        return;
    }
    // Blocking reasons first, then by rows.
    bars.sort_by_key(|&(name, count, blocks)| (!blocks, std::cmp::Reverse(count), name));
    let max = bars.iter().map(|b| b.1).max().unwrap_or(1).max(1);
    const LABEL: u32 = 220;
    const BAR: u32 = 560;
    const HEIGHT: u32 = 26;
    const GAP: u32 = 8;
    let height = bars.len() as u32 * (HEIGHT + GAP) + GAP;
    let width = LABEL + BAR + 90;
    let _ = write!(
        page,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" \
         aria-label=\"rows per rule\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\">"
    );
    for (i, (name, count, blocks)) in bars.iter().enumerate() {
        let y = GAP + i as u32 * (HEIGHT + GAP);
        // At least a sliver, so that one row among millions still shows.
        let length = ((*count as f64 / max as f64) * f64::from(BAR))
            .round()
            .max(3.0) as u32;
        let class = if *blocks { "blocks" } else { "flags" };
        let _ = write!(
            page,
            "<a href=\"#rule-{name}\"><title>{name}: {}</title>\
             <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{name}</text>\
             <rect class=\"bar {class}\" data-rule=\"{name}\" data-count=\"{count}\" x=\"{LABEL}\" \
             y=\"{y}\" width=\"{length}\" height=\"{HEIGHT}\" rx=\"3\"></rect>\
             <text x=\"{}\" y=\"{}\">{}</text></a>",
            plural(*count, "row", "rows"),
            LABEL - 10,
            y + HEIGHT / 2 + 5,
            LABEL + length + 8,
            y + HEIGHT / 2 + 5,
            thousands(*count),
        );
    }
    page.push_str("</svg>");
    page.push_str(
        "<p class=\"legend\"><span style=\"color:var(--err)\">■</span> blocks the recipient · \
         <span style=\"color:#e0a030\">■</span> reported, still sendable · \
         counted in rows of the list (an address on several rows counts on each)</p></section>\n",
    );
}

/// The heading of a rule's box, with its summary and explanation.
fn rule_heading(page: &mut String, section: &Section, one: &str, many: &str) {
    let info = section.rule.info();
    let severity = section.severity.as_str();
    let _ = write!(
        page,
        "<section class=\"rule\" id=\"rule-{name}\"><h3><span class=\"badge {severity}\">\
         {severity}</span> {name} <span class=\"count\">{}</span></h3>\
         <p class=\"summary\">",
        plural(section.count, one, many),
        name = info.name,
    );
    esc(page, info.summary);
    page.push_str(
        "</p><details><summary>What this rule checks, why, and how to fix it</summary>\
         <pre class=\"explain\">",
    );
    esc(page, info.explain);
    page.push_str("</pre></details>");
}

/// "… and N more" when a rule had more than it kept.
fn more(page: &mut String, section: &Section) {
    let hidden = section.count - section.entries.len() as u64;
    if hidden > 0 {
        let _ = write!(
            page,
            "<p class=\"more\">… and {} more (the first {} are shown; \
             <code>--format json</code> or <code>--report-out</code> list them all)</p>",
            thousands(hidden),
            thousands(ROWS_PER_RULE as u64)
        );
    }
}

/// A recipient rule: a table of its rows with the cells that decided.
fn recipient_section(page: &mut String, section: &Section) {
    rule_heading(page, section, "row", "rows");
    // The columns: the deciding fields some row has, in their order.
    let mut columns: Vec<(&'static str, &str)> = Vec::new();
    for &field in deciding_fields(section.rule.name()) {
        if let Some(header) = section
            .entries
            .iter()
            .find_map(|e| e.cells.iter().find(|c| c.0 == field).map(|c| c.1.as_str()))
        {
            columns.push((field, header));
        }
    }
    page.push_str("<table><thead><tr><th>Row</th><th>Recipient</th>");
    for (field, header) in &columns {
        page.push_str("<th>");
        esc(page, header);
        if header != field {
            page.push_str(" <small>");
            esc(page, field);
            page.push_str("</small>");
        }
        page.push_str("</th>");
    }
    page.push_str("<th>Why</th></tr></thead><tbody>");
    for entry in &section.entries {
        page.push_str("<tr><td class=\"row\">");
        if let Some(line) = entry.line {
            let _ = write!(page, "{line}");
        }
        page.push_str("</td><td>");
        esc(page, entry.recipient.as_deref().unwrap_or(""));
        page.push_str("</td>");
        for (field, _) in &columns {
            match entry.cells.iter().find(|c| c.0 == *field) {
                Some((_, _, value)) if !value.is_empty() => {
                    page.push_str("<td class=\"value\">");
                    esc(page, value);
                    page.push_str("</td>");
                }
                _ => page.push_str("<td class=\"empty\">empty</td>"),
            }
        }
        page.push_str("<td>");
        esc(page, &entry.message);
        page.push_str("</td></tr>");
    }
    page.push_str("</tbody></table>");
    more(page, section);
    page.push_str("</section>\n");
}

/// The message one sendable recipient would get.
fn preview_section(page: &mut String, preview: Option<&Preview>, summary: &Summary) {
    page.push_str("<section id=\"preview\"><h2>The message</h2>");
    let Some(p) = preview else {
        page.push_str(if summary.sendable == 0 {
            "<p>No recipient is sendable, so there is no message to preview.</p></section>\n"
        } else {
            "<p>The message could not be rendered: see the draft's findings above.</p></section>\n"
        });
        return;
    };
    let _ = write!(
        page,
        "<div class=\"preview\"><p class=\"legend\">As row {} would get it, rendered by the \
         same code as <code>mailgate send</code>.</p><dl><dt>From</dt><dd>",
        p.line
    );
    esc(page, &p.from);
    page.push_str("</dd><dt>To</dt><dd>");
    esc(page, &p.address);
    page.push_str("</dd><dt>Subject</dt><dd id=\"preview-subject\">");
    esc(page, &p.subject);
    page.push_str("</dd></dl>");
    if let Some(html) = &p.html {
        // The message's own HTML, in a sandbox without scripts, forms or
        // navigation of this page, under a policy that loads nothing
        // (remote images are how senders learn that mail was opened).
        page.push_str(
            "<details open><summary>HTML</summary><iframe class=\"message\" sandbox \
             referrerpolicy=\"no-referrer\" title=\"the HTML part of the message\" srcdoc=\"",
        );
        let mut document =
            format!("<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">");
        document.push_str(html);
        esc(page, &document);
        page.push_str("\"></iframe></details>");
    }
    if let Some(text) = &p.text {
        let _ = write!(
            page,
            "<details{}><summary>Plain text</summary><pre id=\"preview-text\">",
            if p.html.is_none() { " open" } else { "" }
        );
        esc(page, text);
        page.push_str("</pre></details>");
    }
    page.push_str("</div></section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        esc(&mut out, text);
        out
    }

    #[test]
    fn escaping_covers_markup_and_attributes() {
        assert_eq!(
            escaped("<script>alert(\"x\")</script> & 'y'"),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn long_values_are_cut_and_controls_shown() {
        let long = "é".repeat(CELL_CHARS + 10);
        let cut_text = cut(&long);
        assert_eq!(cut_text.chars().count(), CELL_CHARS + 1);
        assert!(cut_text.ends_with('…'));
        assert_eq!(cut("a\u{1b}[2Jb"), "a\\x1b[2Jb");
    }
}

//! The rule registry (SPEC §3): one table that maps every stable rule name to
//! its scope, default level, one-line summary and full explanation, and the
//! [`Levels`] that turn `[rules] allow/warn/deny` and the jurisdiction into a
//! severity per rule — applied in one place, after the checks have run.

pub mod campaign;
pub mod draft;
pub mod list;

use std::fmt;

pub use crate::levels::Level;
use crate::levels::{Jurisdiction, Scope, Severity};

/// Every rule mailgate knows. The order is the order of SPEC §3 and of
/// `mailgate rules`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RuleId {
    // Recipient rules.
    NoConsent,
    UnrelatedProduct,
    PurchasedWithoutConsent,
    IncompleteConsent,
    OutOfScopeConsent,
    Unsubscribed,
    InvalidAddress,
    InvalidDate,
    StaleCustomer,
    StaleConsent,
    DuplicateAddress,
    EmptyMergeField,
    // List-wide rules.
    SpecialCategoryData,
    NationalId,
    UnknownListSource,
    UnusedColumn,
    NonUtf8,
    UnknownCustomerValue,
    UnreadableSuppressionLine,
    // Draft rules.
    MissingOptOut,
    HiddenOptOut,
    MissingListUnsubscribe,
    InvalidListUnsubscribe,
    MissingOneClick,
    ExposedRecipients,
    MissingSender,
    NoReplySender,
    MissingSenderIdentity,
    MissingPostalAddress,
    PersonalDataAttachment,
    UnknownMergeField,
    TemplateError,
    DamagedEncoding,
    // Campaign rules.
    MissingProduct,
    UnknownProduct,
    InsecureTransport,
    PasswordInConfig,
}

/// What the registry knows about one rule.
#[derive(Debug)]
pub struct RuleInfo {
    pub id: RuleId,
    /// The stable kebab-case name.
    pub name: &'static str,
    pub scope: Scope,
    /// The level under the default (`nl`) jurisdiction.
    pub default: Severity,
    /// One line for `mailgate rules`.
    pub summary: &'static str,
    /// The full text for `mailgate explain`: what, why (with the article or
    /// RFC), an example, and how to fix it.
    pub explain: &'static str,
}

macro_rules! rule {
    ($id:ident, $name:literal, $scope:ident, $default:ident, $summary:literal) => {
        RuleInfo {
            id: RuleId::$id,
            name: $name,
            scope: Scope::$scope,
            default: Severity::$default,
            summary: $summary,
            explain: include_str!(concat!("docs/", $name, ".md")),
        }
    };
}

/// The registry, indexed by `RuleId as usize`.
pub static RULES: [RuleInfo; 37] = [
    rule!(
        NoConsent,
        "no-consent",
        Recipient,
        Error,
        "a non-customer on the own list carries no consent data at all"
    ),
    rule!(
        UnrelatedProduct,
        "unrelated-product",
        Recipient,
        Error,
        "a customer without consent: the mailing promotes something not similar to what they bought"
    ),
    rule!(
        PurchasedWithoutConsent,
        "purchased-without-consent",
        Recipient,
        Error,
        "a purchased-list address without consent data (soft opt-in never covers bought addresses)"
    ),
    rule!(
        IncompleteConsent,
        "incomplete-consent",
        Recipient,
        Error,
        "consent has a date but no source, or a source but no date"
    ),
    rule!(
        OutOfScopeConsent,
        "out-of-scope-consent",
        Recipient,
        Error,
        "consent exists but its scope does not cover a promoted product"
    ),
    rule!(
        Unsubscribed,
        "unsubscribed",
        Recipient,
        Info,
        "the person opted out, or the address is on a suppression list"
    ),
    rule!(
        InvalidAddress,
        "invalid-address",
        Recipient,
        Warning,
        "the address is not a deliverable RFC 5322 addr-spec"
    ),
    rule!(
        InvalidDate,
        "invalid-date",
        Recipient,
        Error,
        "a date the judgement needs does not parse"
    ),
    rule!(
        StaleCustomer,
        "stale-customer",
        Recipient,
        Warning,
        "soft opt-in rests on a purchase older than soft_opt_in_months"
    ),
    rule!(
        StaleConsent,
        "stale-consent",
        Recipient,
        Warning,
        "consent older than consent_max_age_months"
    ),
    rule!(
        DuplicateAddress,
        "duplicate-address",
        Recipient,
        Warning,
        "the address occurred on an earlier row (it is sent once)"
    ),
    rule!(
        EmptyMergeField,
        "empty-merge-field",
        Recipient,
        Warning,
        "the template uses a field that is empty for this recipient"
    ),
    rule!(
        SpecialCategoryData,
        "special-category-data",
        List,
        Error,
        "a column holds GDPR art. 9 special-category data (health, religion, ...)"
    ),
    rule!(
        NationalId,
        "national-id",
        List,
        Error,
        "a column holds national identification numbers (BSN, SSN)"
    ),
    rule!(
        UnknownListSource,
        "unknown-list-source",
        List,
        Warning,
        "a `list_source` value that is neither own nor purchased (such rows are judged as purchased)"
    ),
    rule!(
        UnusedColumn,
        "unused-column",
        List,
        Warning,
        "a column that no rule and no template uses is carried along"
    ),
    rule!(
        NonUtf8,
        "non-utf8",
        List,
        Warning,
        "the CSV is not UTF-8 and was read as Windows-1252"
    ),
    rule!(
        UnknownCustomerValue,
        "unknown-customer-value",
        List,
        Warning,
        "a `customer` value that is not yes/no (such rows are judged as non-customers)"
    ),
    rule!(
        UnreadableSuppressionLine,
        "unreadable-suppression-line",
        List,
        Warning,
        "a line of a suppression list holds no e-mail address"
    ),
    rule!(
        MissingOptOut,
        "missing-opt-out",
        Draft,
        Error,
        "a body part offers no unsubscribe link or instruction"
    ),
    rule!(
        HiddenOptOut,
        "hidden-opt-out",
        Draft,
        Error,
        "the HTML opt-out is hidden from the reader"
    ),
    rule!(
        MissingListUnsubscribe,
        "missing-list-unsubscribe",
        Draft,
        Warning,
        "no List-Unsubscribe header and no unsubscribe_url to add one"
    ),
    rule!(
        InvalidListUnsubscribe,
        "invalid-list-unsubscribe",
        Draft,
        Error,
        "the List-Unsubscribe header is not a list of <http(s)/mailto URIs>"
    ),
    rule!(
        MissingOneClick,
        "missing-one-click",
        Draft,
        Warning,
        "no RFC 8058 one-click unsubscribe with an https URI"
    ),
    rule!(
        ExposedRecipients,
        "exposed-recipients",
        Draft,
        Error,
        "To/Cc would show every recipient the others' addresses"
    ),
    rule!(
        MissingSender,
        "missing-sender",
        Draft,
        Error,
        "the draft has no valid From"
    ),
    rule!(
        NoReplySender,
        "no-reply-sender",
        Draft,
        Warning,
        "From or Reply-To is a no-reply address"
    ),
    rule!(
        MissingSenderIdentity,
        "missing-sender-identity",
        Draft,
        Warning,
        "the body does not name the sending legal entity"
    ),
    rule!(
        MissingPostalAddress,
        "missing-postal-address",
        Draft,
        Info,
        "the body does not contain the sender's postal address"
    ),
    rule!(
        PersonalDataAttachment,
        "personal-data-attachment",
        Draft,
        Error,
        "an attachment is a spreadsheet, CSV or vCard, or holds e-mail addresses"
    ),
    rule!(
        UnknownMergeField,
        "unknown-merge-field",
        Draft,
        Error,
        "a template uses a variable that is no column and no built-in"
    ),
    rule!(
        TemplateError,
        "template-error",
        Draft,
        Error,
        "a template does not parse"
    ),
    rule!(
        DamagedEncoding,
        "damaged-encoding",
        Draft,
        Warning,
        "a body part's quoted-printable or base64 is damaged and was decoded leniently"
    ),
    rule!(
        MissingProduct,
        "missing-product",
        Campaign,
        Error,
        "customers would rely on soft opt-in, but the campaign names no product"
    ),
    rule!(
        UnknownProduct,
        "unknown-product",
        Campaign,
        Warning,
        "a promoted product is in no product group and no customer's purchases"
    ),
    rule!(
        InsecureTransport,
        "insecure-transport",
        Campaign,
        Error,
        "tls = \"none\" to a host that is not loopback"
    ),
    rule!(
        PasswordInConfig,
        "password-in-config",
        Campaign,
        Error,
        "a password literal in the campaign file"
    ),
];

impl RuleId {
    /// The registry entry for this rule.
    pub fn info(self) -> &'static RuleInfo {
        &RULES[self as usize]
    }

    /// The stable kebab-case name.
    pub fn name(self) -> &'static str {
        self.info().name
    }

    /// Looks a rule up by its kebab-case name.
    pub fn from_name(name: &str) -> Option<RuleId> {
        RULES.iter().find(|r| r.name == name).map(|r| r.id)
    }
}

impl fmt::Display for RuleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The effective severity of every rule: the default, changed by the
/// jurisdiction profile, changed by `[rules]`. `None` means allowed (not
/// reported).
#[derive(Clone, Debug)]
pub struct Levels {
    severity: [Option<Severity>; RULES.len()],
}

impl Levels {
    /// Levels for a jurisdiction with no `[rules]` overrides.
    pub fn for_jurisdiction(jurisdiction: Jurisdiction) -> Self {
        let mut severity = [None; RULES.len()];
        for info in &RULES {
            severity[info.id as usize] = Some(info.default);
        }
        match jurisdiction {
            Jurisdiction::Nl | Jurisdiction::Eu => {}
            // CASL: implied consent from a purchase lapses after two years.
            Jurisdiction::Ca => severity[RuleId::StaleCustomer as usize] = Some(Severity::Error),
            // CAN-SPAM 15 U.S.C. 7704(a)(5)(A)(iii): a valid physical postal
            // address. (That an existing customer needs no product
            // similarity there is the judgement's business, not a level.)
            Jurisdiction::Us => {
                severity[RuleId::MissingPostalAddress as usize] = Some(Severity::Error)
            }
        }
        Levels { severity }
    }

    /// Applies one `[rules]` entry.
    pub fn set(&mut self, rule: RuleId, level: Level) {
        self.severity[rule as usize] = match level {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        };
    }

    /// The severity a finding of `rule` is reported with; `None` if allowed.
    pub fn severity(&self, rule: RuleId) -> Option<Severity> {
        self.severity[rule as usize]
    }
}

/// `docs/rules.md`: the rule table and every rule's explanation, generated
/// from the registry so the docs and `mailgate explain` never disagree.
pub fn catalogue_markdown() -> String {
    let mut out = String::from(
        "# mailgate rules\n\n\
         <!-- Generated from src/rules/docs/*.md by `MAILGATE_BLESS=1 cargo test --test rules_doc`; \
         do not edit by hand. -->\n\n\
         | rule | scope | default | what it flags |\n|---|---|---|---|\n",
    );
    for rule in &RULES {
        out.push_str(&format!(
            "| [`{0}`](#{0}) | {1} | {2} | {3} |\n",
            rule.name,
            rule.scope.as_str(),
            rule.default.as_str(),
            rule.summary
        ));
    }
    for rule in &RULES {
        out.push('\n');
        // Each text starts with its own `# name` heading; nest it one level.
        out.push('#');
        out.push_str(rule.explain.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_is_indexed_by_id() {
        for (i, info) in RULES.iter().enumerate() {
            assert_eq!(info.id as usize, i, "{} is out of place", info.name);
            assert_eq!(RuleId::from_name(info.name), Some(info.id));
            assert!(
                !info.explain.trim().is_empty(),
                "{} has no explanation",
                info.name
            );
        }
    }

    #[test]
    fn jurisdiction_changes_levels() {
        let nl = Levels::for_jurisdiction(Jurisdiction::Nl);
        let ca = Levels::for_jurisdiction(Jurisdiction::Ca);
        let us = Levels::for_jurisdiction(Jurisdiction::Us);
        assert_eq!(nl.severity(RuleId::StaleCustomer), Some(Severity::Warning));
        assert_eq!(ca.severity(RuleId::StaleCustomer), Some(Severity::Error));
        assert_eq!(
            nl.severity(RuleId::MissingPostalAddress),
            Some(Severity::Info)
        );
        assert_eq!(
            us.severity(RuleId::MissingPostalAddress),
            Some(Severity::Error)
        );
    }

    #[test]
    fn allow_removes_and_deny_raises() {
        let mut levels = Levels::for_jurisdiction(Jurisdiction::Nl);
        levels.set(RuleId::StaleConsent, Level::Allow);
        levels.set(RuleId::MissingListUnsubscribe, Level::Deny);
        assert_eq!(levels.severity(RuleId::StaleConsent), None);
        assert_eq!(
            levels.severity(RuleId::MissingListUnsubscribe),
            Some(Severity::Error)
        );
    }
}

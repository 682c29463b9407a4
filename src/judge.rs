//! SPEC §2: the one place that decides whether the law lets this mailing
//! reach a recipient, and which recipient rules fire for a row.
//!
//! Product similarity and consent scopes are resolved once, before the first
//! row, into small sets of lower-case names per promoted product; per row the
//! judge looks a `purchased` or `consent_scope` cell up among the cells it
//! has met (a list holds few distinct ones), and otherwise splits it and
//! compares its names ignoring ASCII case, without allocating. The dates
//! ages are measured against are computed once too, and a reused
//! [`Verdict`] writes the messages that quote a row into the strings of
//! earlier ones.

use std::borrow::Cow;
use std::fmt::Write as _;

use jiff::Unit;
use jiff::civil::Date;

use crate::campaign::{Campaign, Jurisdiction};
use crate::hash::FastHashSet;
use crate::normalise::same_product;
use crate::recipients::address::is_deliverable;
use crate::recipients::list_source::{self, ListSource};
use crate::recipients::suppression::Suppression;
use crate::recipients::{Field, address_hash, parse_date};
use crate::rules::RuleId;

mod cells;
mod coverage;

#[cfg(test)]
use cells::iso_date;
pub use cells::parse_yes_no;
use cells::{customer, list_items, months_before, push_iso_date};
use coverage::{Coverage, normalise, with_normalised};

/// Read access to a row's logical fields (a CSV [`crate::recipients::Row`],
/// or a table in tests).
pub trait Fields {
    /// The trimmed value of `field`, `""` when absent.
    fn get(&self, field: Field) -> &str;

    /// True when the address (`get(Field::Email)`) [`is_deliverable`].
    /// A row that has the answer already (a CSV row's reading thread works
    /// it out) gives it instead.
    fn address_is_deliverable(&self) -> bool {
        is_deliverable(self.get(Field::Email))
    }

    /// When the list's own bookkeeping says the address bounced (a
    /// Mailchimp export's `CLEAN_TIME`): that value, else `""`.
    fn bounced(&self) -> &str {
        ""
    }
}

impl Fields for crate::recipients::Row<'_> {
    // Inlined into the judge like `Row::get` itself (see there).
    #[inline(always)]
    fn get(&self, field: Field) -> &str {
        crate::recipients::Row::get(self, field)
    }

    fn address_is_deliverable(&self) -> bool {
        crate::recipients::Row::address_is_deliverable(self)
    }

    #[inline]
    fn bounced(&self) -> &str {
        crate::recipients::Row::bounced(self)
    }
}

/// The lawful basis a recipient is mailed on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Basis {
    /// Recorded consent (GDPR art. 6(1)(a), ePrivacy art. 13(1)).
    Consent,
    /// An own customer, about similar products (ePrivacy art. 13(2),
    /// Telecommunicatiewet art. 11.7 lid 3).
    SoftOptIn,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Consent => "consent",
            Basis::SoftOptIn => "soft-opt-in",
        }
    }
}

/// One recipient rule that fired for a row. The message borrows from the
/// [`Judge`] when it is fixed text (most are), so judging allocates only for
/// messages that quote the row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason<'j> {
    pub rule: RuleId,
    /// The logical field the reason is about (mapped to the CSV header by the caller).
    pub field: Field,
    pub message: Cow<'j, str>,
}

/// The judgement of one row.
///
/// A verdict reused from row to row also keeps the strings of messages
/// that quoted earlier rows, and writes the next such messages into them:
/// judging a long list then allocates nothing per row.
#[derive(Clone, Debug, Default)]
pub struct Verdict<'j> {
    pub basis: Option<Basis>,
    pub reasons: Vec<Reason<'j>>,
    /// True when the row was stopped at step 1 or 2 (invalid or opted out):
    /// nothing else is to be reported for it.
    pub stopped: bool,
    /// True when the row is an own-list customer without a consent basis:
    /// soft opt-in was tried (`missing-product` needs to know).
    pub soft_opt_in_tried: bool,
    /// Emptied strings of messages gone by (see [`Verdict::recycle`]).
    spare: Vec<String>,
}

/// Two verdicts are equal when they judge alike; their spare strings are
/// no part of the judgement.
impl PartialEq for Verdict<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.basis == other.basis
            && self.reasons == other.reasons
            && self.stopped == other.stopped
            && self.soft_opt_in_tried == other.soft_opt_in_tried
    }
}

impl Eq for Verdict<'_> {}

/// How many spare message strings a verdict keeps: more than a row has
/// messages that quote it.
const SPARE_MESSAGES: usize = 8;

/// Keeps the string of an owned `message` in `spare`, when there is room.
fn keep_spare(spare: &mut Vec<String>, message: Cow<'_, str>) {
    if let Cow::Owned(text) = message
        && spare.len() < SPARE_MESSAGES
    {
        spare.push(text);
    }
}

impl<'j> Verdict<'j> {
    /// Whether the row is blocked (SPEC §2): stopped at step 1 or 2, or
    /// left without a basis. The judgement alone decides this; report
    /// levels never do.
    #[inline]
    pub fn blocked(&self) -> bool {
        self.basis.is_none()
    }

    fn push(&mut self, rule: RuleId, field: Field, message: impl Into<Cow<'j, str>>) {
        self.reasons.push(Reason {
            rule,
            field,
            message: message.into(),
        });
    }

    /// An empty string to write a message into: a spare one when there is
    /// one (its capacity is reused), else a new one.
    pub fn message_buffer(&mut self) -> String {
        let mut text = self.spare.pop().unwrap_or_default();
        text.clear();
        text
    }

    /// Pushes a message made of `pieces`, written into a
    /// [`Verdict::message_buffer`].
    fn push_pieces<const N: usize>(&mut self, rule: RuleId, field: Field, pieces: [&str; N]) {
        let mut text = self.message_buffer();
        for piece in pieces {
            text.push_str(piece);
        }
        self.push(rule, field, text);
    }

    /// Takes back a message that is done with (a reason of this verdict, or
    /// a finding made from one), to write a later message into its string.
    pub fn recycle(&mut self, message: Cow<'_, str>) {
        keep_spare(&mut self.spare, message);
    }

    /// The verdict with every message owned, to keep beyond the judge.
    pub fn into_owned(self) -> Verdict<'static> {
        Verdict {
            basis: self.basis,
            reasons: self
                .reasons
                .into_iter()
                .map(|r| Reason {
                    rule: r.rule,
                    field: r.field,
                    message: Cow::Owned(r.message.into_owned()),
                })
                .collect(),
            stopped: self.stopped,
            soft_opt_in_tried: self.soft_opt_in_tried,
            spare: Vec::new(),
        }
    }

    /// Empties the verdict for the next row, keeping its allocations.
    #[inline]
    fn clear(&mut self) {
        self.basis = None;
        // The lint takes the reasons away after every row: usually none
        // are left.
        if !self.reasons.is_empty() {
            for reason in self.reasons.drain(..) {
                keep_spare(&mut self.spare, reason.message);
            }
        }
        self.stopped = false;
        self.soft_opt_in_tried = false;
    }
}

/// A promoted product with everything it is compared against, in lower case.
#[derive(Debug)]
struct Promoted {
    name: String,
    /// Products a purchase may be of for soft opt-in to cover this one.
    similar: FastHashSet<String>,
    /// Names a consent scope may use to cover it: the product and its groups.
    scope_names: FastHashSet<String>,
}

/// The judge for one campaign.
#[derive(Debug)]
pub struct Judge<'s> {
    promoted: Vec<Promoted>,
    today: Date,
    consent_max_age_months: u32,
    /// A purchase before this date is stale (`None`: none is).
    stale_purchase_before: Option<Date>,
    /// Consent given before this date is stale (`None`: consent does not age).
    stale_consent_before: Option<Date>,
    /// The end of the `stale-customer` message.
    stale_purchase_suffix: String,
    /// Whether a stale purchase ends soft opt-in (`ca`: CASL's implied
    /// consent lapses after two years) rather than only being reported.
    stale_purchase_blocks: bool,
    /// Whether soft opt-in asks that the promoted products be similar to a
    /// purchase (not under `us`: CAN-SPAM is an opt-out regime, and an
    /// existing customer needs neither consent nor similarity).
    similarity_required: bool,
    /// `similar` and `scope_names` of all promoted products at once (when
    /// there are at most 64).
    similar_coverage: Option<Coverage>,
    scope_coverage: Option<Coverage>,
    suppression: &'s Suppression,
}

/// How many distinct purchased names [`Judge::note_purchased_names`] keeps.
pub const PURCHASED_NAMES_KEPT: usize = 256;

impl<'s> Judge<'s> {
    /// Resolves the campaign's products and groups for fast per-row lookups.
    pub fn new(campaign: &Campaign, suppression: &'s Suppression) -> Self {
        let promoted: Vec<Promoted> = campaign
            .products
            .iter()
            .map(|product| {
                let key = normalise(product);
                let mut similar = FastHashSet::from_iter([key.clone()]);
                let mut scope_names = FastHashSet::from_iter([key.clone()]);
                for group in &campaign.product_groups {
                    if group.products.iter().any(|p| normalise(p) == key) {
                        similar.extend(group.products.iter().map(|p| normalise(p)));
                        scope_names.insert(normalise(&group.name));
                    }
                }
                Promoted {
                    name: product.clone(),
                    similar,
                    scope_names,
                }
            })
            .collect();
        let consent_max_age_months = campaign.consent_max_age_months;
        Judge {
            similar_coverage: Coverage::new(promoted.iter().map(|p| &p.similar), false),
            scope_coverage: Coverage::new(promoted.iter().map(|p| &p.scope_names), true),
            promoted,
            today: campaign.today,
            consent_max_age_months,
            stale_purchase_before: months_before(campaign.today, campaign.soft_opt_in_months),
            stale_purchase_suffix: format!(", older than {} months", campaign.soft_opt_in_months),
            stale_purchase_blocks: campaign.jurisdiction == Jurisdiction::Ca,
            similarity_required: campaign.jurisdiction != Jurisdiction::Us,
            stale_consent_before: if consent_max_age_months > 0 {
                months_before(campaign.today, consent_max_age_months)
            } else {
                None
            },
            suppression,
        }
    }

    /// Who is a customer: the `customer` column when it has a value,
    /// otherwise anyone with a purchase recorded.
    pub fn is_customer(row: &impl Fields) -> bool {
        customer(
            row.get(Field::Customer),
            row.get(Field::Purchased),
            row.get(Field::LastPurchaseAt),
        )
    }

    /// Judges one row. `earlier_line` is the line of an earlier row with the
    /// same address (case-insensitive), if there was one.
    pub fn judge(&self, row: &impl Fields, earlier_line: Option<u64>) -> Verdict<'_> {
        let mut verdict = Verdict::default();
        let hash = address_hash(row.get(Field::Email));
        self.judge_into(row, hash, earlier_line, &mut verdict);
        verdict
    }

    /// [`Judge::judge`] into a verdict that is reused from row to row, for
    /// a caller that has the row's [`address_hash`] already.
    pub fn judge_into<'j>(
        &'j self,
        row: &impl Fields,
        address_hash: u64,
        earlier_line: Option<u64>,
        verdict: &mut Verdict<'j>,
    ) {
        verdict.clear();
        let email = row.get(Field::Email);

        // 1. An address that cannot be delivered: nothing else matters.
        if !row.address_is_deliverable() {
            if email.is_empty() {
                verdict.push(RuleId::InvalidAddress, Field::Email, "the address is empty");
            } else {
                verdict.push_pieces(
                    RuleId::InvalidAddress,
                    Field::Email,
                    ["`", email, "` is not a deliverable e-mail address"],
                );
            }
            verdict.stopped = true;
            return;
        }
        let bounced = row.bounced();
        if !bounced.is_empty() {
            verdict.push_pieces(
                RuleId::InvalidAddress,
                Field::Email,
                [
                    "Mailchimp cleaned the address (",
                    bounced,
                    "): it bounced, so mail to it is not delivered",
                ],
            );
            verdict.stopped = true;
            return;
        }

        // 2. An opt-out, whatever the date cell holds.
        let unsubscribed = row.get(Field::UnsubscribedAt);
        if !unsubscribed.is_empty() {
            verdict.push_pieces(
                RuleId::Unsubscribed,
                Field::UnsubscribedAt,
                ["the recipient opted out (", unsubscribed, ")"],
            );
            verdict.stopped = true;
            return;
        }
        if self.suppression.contains_hashed(address_hash, email) {
            verdict.push(
                RuleId::Unsubscribed,
                Field::Email,
                "the address is on a suppression list",
            );
            verdict.stopped = true;
            return;
        }

        // 3. Sent once; the row is still judged.
        if let Some(line) = earlier_line {
            let mut text = verdict.message_buffer();
            let _ = write!(
                text,
                "the address also appears on line {line}; it is sent once"
            );
            verdict.push(RuleId::DuplicateAddress, Field::Email, text);
        }

        // 4. Look for a basis: consent first, then soft opt-in.
        let consent_at_text = row.get(Field::ConsentAt);
        let consent_source = row.get(Field::ConsentSource);
        let consent_at = parse_date(consent_at_text);
        let scope = row.get(Field::ConsentScope);
        let uncovered = self.uncovered_by_scope(scope);
        if let (Some(date), false, None) = (consent_at, consent_source.is_empty(), &uncovered) {
            verdict.basis = Some(Basis::Consent);
            if self.stale_consent_before.is_some_and(|limit| date < limit) {
                let mut text = verdict.message_buffer();
                let _ = write!(
                    text,
                    "consent given {date} is older than consent_max_age_months ({})",
                    self.consent_max_age_months
                );
                verdict.push(RuleId::StaleConsent, Field::ConsentAt, text);
            }
            return;
        }

        // Each field read once: `is_customer` may need the purchases too.
        let purchased = row.get(Field::Purchased);
        let last = row.get(Field::LastPurchaseAt);
        let customer = customer(row.get(Field::Customer), purchased, last);
        let list_source = row.get(Field::ListSource);
        let source = list_source::classify(list_source);
        let purchased_list = source.judged_as_purchased();
        verdict.soft_opt_in_tried = customer && !purchased_list;
        let unrelated = if customer && !purchased_list && self.similarity_required {
            self.unrelated_to_purchases(purchased)
        } else {
            None
        };
        if customer && !purchased_list && unrelated.is_none() {
            // The purchase's age decides whether soft opt-in holds: an
            // unreadable date cannot show it, and under CASL an implied
            // consent older than two years has expired.
            let holds = if last.is_empty() {
                true
            } else {
                match parse_date(last) {
                    None => {
                        verdict.push_pieces(
                            RuleId::InvalidDate,
                            Field::LastPurchaseAt,
                            [
                                "last purchase date `",
                                last,
                                "` is not a date (use YYYY-MM-DD), so the purchase's age \
                                 cannot be shown",
                            ],
                        );
                        false
                    }
                    Some(date) if self.stale_purchase_before.is_some_and(|limit| date < limit) => {
                        let mut text = verdict.message_buffer();
                        text.push_str("soft opt-in rests on a purchase of ");
                        push_iso_date(&mut text, date);
                        text.push_str(&self.stale_purchase_suffix);
                        verdict.push(RuleId::StaleCustomer, Field::LastPurchaseAt, text);
                        !self.stale_purchase_blocks
                    }
                    Some(_) => true,
                }
            };
            if holds {
                verdict.basis = Some(Basis::SoftOptIn);
                return;
            }
        }

        // 5. No basis: every reason that applies.
        let has_consent_data = !consent_at_text.is_empty() || !consent_source.is_empty();
        if has_consent_data {
            if !consent_at_text.is_empty() && consent_at.is_none() {
                verdict.push_pieces(
                    RuleId::InvalidDate,
                    Field::ConsentAt,
                    [
                        "consent date `",
                        consent_at_text,
                        "` is not a date (use YYYY-MM-DD)",
                    ],
                );
            } else if consent_at_text.is_empty() {
                verdict.push(
                    RuleId::IncompleteConsent,
                    Field::ConsentAt,
                    "consent has a source but no date, so it cannot be demonstrated",
                );
            } else if consent_source.is_empty() {
                verdict.push(
                    RuleId::IncompleteConsent,
                    Field::ConsentSource,
                    "consent has a date but no source, so it cannot be demonstrated",
                );
            } else if let Some(product) = uncovered {
                verdict.push_pieces(
                    RuleId::OutOfScopeConsent,
                    Field::ConsentScope,
                    ["consent scope `", scope, "` does not cover `", product, "`"],
                );
            }
        } else if source == ListSource::Purchased {
            verdict.push_pieces(
                RuleId::PurchasedWithoutConsent,
                Field::ListSource,
                [
                    "address from a purchased list (`",
                    list_source,
                    "`) without recorded consent",
                ],
            );
        } else if purchased_list {
            verdict.push_pieces(
                RuleId::PurchasedWithoutConsent,
                Field::ListSource,
                [
                    "list source `",
                    list_source,
                    "` is neither own nor purchased, so the address is judged as bought: \
                     it needs recorded consent, and there is none",
                ],
            );
        } else if !customer {
            verdict.push(
                RuleId::NoConsent,
                Field::ConsentAt,
                "non-customer without recorded consent",
            );
        }
        if customer && !purchased_list {
            match unrelated {
                Some(Unrelated::NothingPurchased) => verdict.push(
                    RuleId::UnrelatedProduct,
                    Field::Purchased,
                    "customer without consent and no purchase recorded to base soft opt-in on",
                ),
                // The cell as written, so that the cause shows.
                Some(Unrelated::Product(product)) => verdict.push_pieces(
                    RuleId::UnrelatedProduct,
                    Field::Purchased,
                    [
                        "customer without consent: purchased `",
                        purchased,
                        "` holds nothing similar to `",
                        &product.name,
                        "`",
                    ],
                ),
                // The products are covered; the purchase's date let soft
                // opt-in down (its reason is given above).
                None => {}
            }
        }
    }

    /// The first promoted product the consent scope does not cover, if any.
    /// An empty scope or `*` covers everything.
    fn uncovered_by_scope(&self, scope: &str) -> Option<&str> {
        if scope.is_empty() {
            return None;
        }
        if let Some(coverage) = &self.scope_coverage {
            let (covered, _) = coverage.cover(scope);
            return coverage
                .first_uncovered(covered)
                .map(|i| self.promoted[i].name.as_str());
        }
        if list_items(scope).any(|n| n == "*") {
            return None;
        }
        self.promoted
            .iter()
            .find(|p| !list_items(scope).any(|n| with_normalised(n, |n| p.scope_names.contains(n))))
            .map(|p| p.name.as_str())
    }

    /// Why soft opt-in does not cover the mailing, or `None` when it does.
    fn unrelated_to_purchases(&self, purchased: &str) -> Option<Unrelated<'_>> {
        if let Some(coverage) = &self.similar_coverage {
            let (covered, any) = coverage.cover(purchased);
            if !any {
                return Some(Unrelated::NothingPurchased);
            }
            return coverage
                .first_uncovered(covered)
                .map(|i| Unrelated::Product(&self.promoted[i]));
        }
        if list_items(purchased).next().is_none() {
            return Some(Unrelated::NothingPurchased);
        }
        self.promoted
            .iter()
            .find(|p| !list_items(purchased).any(|b| with_normalised(b, |b| p.similar.contains(b))))
            .map(Unrelated::Product)
    }

    /// Marks which promoted products appear by name in the row's purchases
    /// (for `unknown-product`).
    pub fn mark_purchased_products(&self, row: &impl Fields, seen: &mut [bool]) {
        if seen.iter().all(|&s| s) {
            return;
        }
        let purchased = row.get(Field::Purchased);
        for item in list_items(purchased) {
            for (product, seen) in self.promoted.iter().zip(seen.iter_mut()) {
                *seen |= same_product(&product.name, item);
            }
        }
    }

    /// Adds the distinct names in the row's purchases to `names` (at most
    /// [`PURCHASED_NAMES_KEPT`]), for `unknown-product`'s did-you-mean.
    pub fn note_purchased_names(&self, row: &impl Fields, names: &mut Vec<String>) {
        for item in list_items(row.get(Field::Purchased)) {
            if names.len() >= PURCHASED_NAMES_KEPT {
                return;
            }
            if !names.iter().any(|n| n == item) {
                names.push(item.to_owned());
            }
        }
    }

    /// Whole months between `date` and today (for messages and reports).
    pub fn age_in_months(&self, date: Date) -> Option<i64> {
        date.until((Unit::Month, self.today))
            .ok()
            .map(|span| i64::from(span.get_months()))
    }
}

enum Unrelated<'a> {
    NothingPurchased,
    Product(&'a Promoted),
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::coverage::SEEN_CELL_LEN;
    use super::*;
    use crate::campaign::{Overrides, ProductGroup};

    struct Table(HashMap<Field, &'static str>);

    impl Fields for Table {
        fn get(&self, field: Field) -> &str {
            self.0.get(&field).copied().unwrap_or("")
        }
    }

    fn row(pairs: &[(Field, &'static str)]) -> Table {
        let mut map: HashMap<Field, &'static str> = pairs.iter().copied().collect();
        map.entry(Field::Email).or_insert("jan@example.nl");
        Table(map)
    }

    fn campaign(products: &[&str]) -> Campaign {
        let mut campaign = Campaign::load(
            None,
            &Overrides {
                recipients: Some("r.csv".into()),
                draft: Some("d.eml".into()),
                products: products.iter().map(|s| s.to_string()).collect(),
            },
        )
        .unwrap();
        campaign.today = jiff::civil::date(2027, 3, 1);
        campaign.product_groups = vec![
            ProductGroup {
                name: "garden".into(),
                products: vec!["garden-furniture".into(), "parasols".into(), "bbq".into()],
                line: None,
            },
            ProductGroup {
                name: "cycling".into(),
                products: vec!["bicycles".into(), "e-bikes".into()],
                line: None,
            },
        ];
        campaign
    }

    fn rules(verdict: &Verdict) -> Vec<RuleId> {
        verdict.reasons.iter().map(|r| r.rule).collect()
    }

    fn judge(products: &[&str], fields: &[(Field, &'static str)]) -> Verdict<'static> {
        let suppression = Suppression::default();
        let campaign = campaign(products);
        Judge::new(&campaign, &suppression)
            .judge(&row(fields), None)
            .into_owned()
    }

    use Field::*;

    #[test]
    fn list_items_split_on_bars_and_semicolons_and_drop_blanks() {
        let items = |cell| list_items(cell).collect::<Vec<_>>();
        assert_eq!(items(""), Vec::<&str>::new());
        assert_eq!(items(" | ;"), Vec::<&str>::new());
        assert_eq!(items("bbq"), ["bbq"]);
        assert_eq!(
            items(" bbq | E-Bikes ;parasols;"),
            ["bbq", "E-Bikes", "parasols"]
        );
        assert_eq!(items("a||b;;c"), ["a", "b", "c"]);
        assert_eq!(items("stadsfiets, e-bikes"), ["stadsfiets", "e-bikes"]);
        assert_eq!(items("bbq,parasols; ,"), ["bbq", "parasols"]);
        assert_eq!(items("tuinstoel ✓|Zoë"), ["tuinstoel ✓", "Zoë"]);
    }

    #[test]
    fn names_are_normalised_on_the_stack_as_normalise_would() {
        for name in [
            "bbq",
            " BBQ ",
            "E-Bikes",
            "Tuinstoelen",
            "ÉCLAIR",
            "x".repeat(80).as_str(),
        ] {
            assert_eq!(
                with_normalised(name, str::to_owned),
                normalise(name),
                "{name}"
            );
        }
    }

    #[test]
    fn coverage_bits_agree_with_the_sets_they_come_from() {
        let names = [
            "bbq",
            "BBQ",
            "parasols",
            "garden",
            "Garden",
            "cycling",
            "bicycles",
            "e-bikes",
            "garden-furniture",
            "tents",
            "*",
            "",
            " ",
            "GARDEN-Furniture",
            "Parasols",
            "bbx",
            "garden-furniturf",
            "Zoë",
            "ZOË",
            "zoe",
        ];
        for products in [
            &["garden-furniture"][..],
            &["garden-furniture", "e-bikes"],
            &["e-bikes", "garden-furniture", "bbq"],
            &["tents"],
            &["Zoë", "bbq"],
            &[],
        ] {
            let suppression = Suppression::default();
            let campaign = campaign(products);
            let quick = Judge::new(&campaign, &suppression);
            let mut sets = Judge::new(&campaign, &suppression);
            sets.similar_coverage = None;
            sets.scope_coverage = None;
            // Every name alone, every pair, and triples with `*` or an
            // empty item in the middle.
            let mut cells: Vec<String> = names.iter().map(|a| a.to_string()).collect();
            for a in names {
                for b in names {
                    for sep in ["|", ";"] {
                        cells.push(format!("{a}{sep}{b}"));
                    }
                    cells.push(format!("{a}|*;{b}"));
                    cells.push(format!("{a}| |{b}"));
                }
            }
            // Twice: the second time the quick judge answers from the cells
            // it has met.
            for cell in cells.iter().chain(&cells) {
                let unrelated = |j: &Judge<'_>| match j.unrelated_to_purchases(cell) {
                    None => "covered".to_owned(),
                    Some(Unrelated::NothingPurchased) => "nothing".to_owned(),
                    Some(Unrelated::Product(p)) => p.name.clone(),
                };
                assert_eq!(unrelated(&quick), unrelated(&sets), "{products:?} {cell}");
                assert_eq!(
                    quick.uncovered_by_scope(cell),
                    sets.uncovered_by_scope(cell),
                    "{products:?} {cell}"
                );
            }
        }
    }

    #[test]
    fn long_cells_are_judged_but_not_remembered() {
        let suppression = Suppression::default();
        let campaign = campaign(&["garden-furniture"]);
        let judge = Judge::new(&campaign, &suppression);
        let long = format!("{}|garden-furniture", "x".repeat(SEEN_CELL_LEN));
        for _ in 0..2 {
            assert!(judge.unrelated_to_purchases(&long).is_none());
            assert!(judge.unrelated_to_purchases("e-bikes").is_some());
        }
        let coverage = judge.similar_coverage.as_ref().expect("one product");
        let seen = coverage.seen.borrow();
        assert!(seen.contains_key("e-bikes"));
        assert_eq!(seen.len(), 1, "only the short cell is kept");
    }

    #[test]
    fn coverage_bits_are_the_map_lookup_of_the_normalised_name() {
        let suppression = Suppression::default();
        let mut campaign = campaign(&["garden-furniture", "Zoë", "e-bikes"]);
        campaign.product_groups.push(ProductGroup {
            name: "Keuken Ü".into(),
            products: vec!["Zoë".into(), "KNIVES".into(), "x".repeat(70)],
            line: None,
        });
        let judge = Judge::new(&campaign, &suppression);
        let mut names: Vec<String> = [
            "",
            " ",
            "bbq",
            "BBQ",
            " Bbq ",
            "bb",
            "bbqq",
            "garden",
            "GARDEN",
            "gardeN ",
            "zoë",
            "ZOË",
            "Zoe",
            "knives",
            "Knives",
            "keuken ü",
            "KEUKEN Ü",
            "keuken u",
            "e-bikes",
            "E-BIKES",
            "e_bikes",
            "tents",
            "*",
        ]
        .map(str::to_owned)
        .to_vec();
        names.push("x".repeat(70));
        names.push("X".repeat(70));
        names.push("x".repeat(69));
        for coverage in [&judge.similar_coverage, &judge.scope_coverage] {
            let coverage = coverage.as_ref().unwrap();
            let mut hits = 0;
            for name in &names {
                let expected =
                    with_normalised(name, |n| coverage.by_name.get(n).copied().unwrap_or(0));
                assert_eq!(coverage.bits(name), expected, "{name:?}");
                hits += usize::from(expected != 0);
            }
            assert!(hits >= 8, "{hits}");
        }
    }

    #[test]
    fn yes_no_answers_as_word_lists_do() {
        fn yes_no(value: &str) -> Option<bool> {
            const YES: [&str; 7] = ["yes", "y", "true", "1", "ja", "j", "waar"];
            const NO: [&str; 6] = ["no", "n", "false", "0", "nee", "onwaar"];
            let value = value.trim();
            if YES.iter().any(|w| w.eq_ignore_ascii_case(value)) {
                Some(true)
            } else if NO.iter().any(|w| w.eq_ignore_ascii_case(value)) {
                Some(false)
            } else {
                None
            }
        }
        let words = [
            "",
            " ",
            "yes",
            "YES",
            "Yes ",
            " y",
            "Y",
            "true",
            "TRUE",
            "tru",
            "truee",
            "1",
            "01",
            "ja",
            "Ja",
            "JA",
            "j",
            "waar",
            "WAAR",
            "no",
            "No",
            "n",
            "false",
            "FALSE",
            "0",
            "nee",
            "NEE",
            "onwaar",
            "Onwaar",
            "onwaarr",
            "x",
            "jä",
            "ñ",
            "\u{a0}ja",
            "ja\t",
            "purchased",
            "Purchased",
            "PURCHASED:LeadsDirect",
            " purchased :x",
            "gekocht",
            "Gekocht:",
            "bought",
            "bought:",
            "boughtx",
            "own",
            "eigen",
            "purchase",
            ":purchased",
            "purchased\u{a0}",
            "bought ",
            "  bought",
            "purchasedx:y",
        ];
        for word in words {
            assert_eq!(parse_yes_no(word), yes_no(word), "{word:?}");
        }
    }

    #[test]
    fn a_reused_verdict_judges_as_a_fresh_one() {
        // Rows whose messages quote the row, judged one after another into
        // one verdict (which writes into the strings of earlier messages),
        // and each into a fresh verdict.
        let suppression = Suppression::default();
        let campaign = campaign(&["bbq"]);
        let judge = Judge::new(&campaign, &suppression);
        let rows = [
            row(&[(Email, "jan@example")]),
            row(&[(UnsubscribedAt, "2026-01-01 (per telefoon, lang verhaal)")]),
            row(&[(Purchased, "bbq"), (LastPurchaseAt, "2019-06-01")]),
            row(&[(ConsentAt, "gisteren"), (ConsentSource, "form")]),
            row(&[(Purchased, "bbq"), (LastPurchaseAt, "vorig jaar")]),
            row(&[]),
            row(&[(Email, "x")]),
        ];
        let mut reused = Verdict::default();
        for (i, fields) in rows.iter().chain(&rows).enumerate() {
            let hash = address_hash(fields.get(Email));
            let earlier = (i % 3 == 0).then_some(i as u64);
            judge.judge_into(fields, hash, earlier, &mut reused);
            let fresh = judge.judge(fields, earlier);
            assert_eq!(reused, fresh, "row {i}");
            assert!(!reused.reasons.is_empty(), "row {i}");
            // What the lint does with the messages once reported.
            let messages: Vec<_> = reused.reasons.drain(..).map(|r| r.message).collect();
            for message in messages {
                reused.recycle(message);
            }
        }
    }

    #[test]
    fn dates_written_as_jiff_writes_them() {
        for (y, m, d) in [
            (2027, 3, 1),
            (1, 1, 1),
            (0, 12, 31),
            (999, 10, 9),
            (9999, 12, 31),
            (-1, 1, 1),
        ] {
            let date = jiff::civil::date(y, m, d);
            assert_eq!(iso_date(date), date.to_string());
        }
    }

    #[test]
    fn customer_of_same_group_is_soft_opt_in() {
        let v = judge(
            &["garden-furniture"],
            &[(Purchased, "bbq"), (LastPurchaseAt, "2026-05-01")],
        );
        assert_eq!(v.basis, Some(Basis::SoftOptIn));
        assert!(v.reasons.is_empty());
    }

    #[test]
    fn a_cell_list_split_on_commas_is_read_whole() {
        // Regression: `stadsfiets, e-bikes` was one item, so the customer
        // was blocked as unrelated.
        let v = judge(&["e-bikes"], &[(Purchased, "stadsfiets, e-bikes")]);
        assert_eq!(v.basis, Some(Basis::SoftOptIn));
        let v = judge(&["bicycles"], &[(Purchased, "parasols , e-bikes")]);
        assert_eq!(v.basis, Some(Basis::SoftOptIn), "same group");
    }

    #[test]
    fn the_unrelated_message_quotes_the_cell() {
        let v = judge(&["garden-furniture"], &[(Purchased, "stadsfiets, e-bike")]);
        assert_eq!(rules(&v), [RuleId::UnrelatedProduct]);
        assert_eq!(
            v.reasons[0].message,
            "customer without consent: purchased `stadsfiets, e-bike` holds nothing similar \
             to `garden-furniture`"
        );
    }

    #[test]
    fn list_source_values_decide_purchased() {
        for source in [
            "ingekocht bij LeadsNL",
            "purchased list",
            "Gekocht",
            "beurs 2026",
        ] {
            let v = judge(
                &["bbq"],
                &[(Purchased, "bbq"), (Customer, "ja"), (ListSource, source)],
            );
            assert_eq!(rules(&v), [RuleId::PurchasedWithoutConsent], "{source}");
            assert!(v.reasons[0].message.contains(source), "{source}");
            assert!(!v.soft_opt_in_tried);
        }
        for source in ["", "eigen", "own:webshop", "OWN"] {
            let v = judge(&["bbq"], &[(Purchased, "bbq"), (ListSource, source)]);
            assert_eq!(v.basis, Some(Basis::SoftOptIn), "{source}");
        }
    }

    #[test]
    fn customer_of_other_group_is_unrelated() {
        let v = judge(&["garden-furniture"], &[(Purchased, "bicycles")]);
        assert_eq!(v.basis, None);
        assert_eq!(rules(&v), [RuleId::UnrelatedProduct]);
    }

    #[test]
    fn every_promoted_product_must_be_similar() {
        let v = judge(&["garden-furniture", "e-bikes"], &[(Purchased, "parasols")]);
        assert_eq!(rules(&v), [RuleId::UnrelatedProduct]);
        let v = judge(
            &["garden-furniture", "e-bikes"],
            &[(Purchased, "parasols|bicycles")],
        );
        assert_eq!(v.basis, Some(Basis::SoftOptIn));
    }

    #[test]
    fn non_customer_without_consent() {
        let v = judge(&["bbq"], &[]);
        assert_eq!(rules(&v), [RuleId::NoConsent]);
        let v = judge(&["bbq"], &[(Customer, "nee"), (Purchased, "bbq")]);
        assert_eq!(
            rules(&v),
            [RuleId::NoConsent],
            "customer column wins over purchases"
        );
    }

    #[test]
    fn consent_needs_date_and_source() {
        let v = judge(
            &["bbq"],
            &[(ConsentAt, "2026-01-05"), (ConsentSource, "form")],
        );
        assert_eq!(v.basis, Some(Basis::Consent));
        let v = judge(&["bbq"], &[(ConsentSource, "form")]);
        assert_eq!(rules(&v), [RuleId::IncompleteConsent]);
        assert_eq!(v.reasons[0].field, ConsentAt);
        let v = judge(&["bbq"], &[(ConsentAt, "05-01-2026")]);
        assert_eq!(rules(&v), [RuleId::IncompleteConsent]);
        assert_eq!(v.reasons[0].field, ConsentSource);
        let v = judge(
            &["bbq"],
            &[(ConsentAt, "2026-02-30"), (ConsentSource, "form")],
        );
        assert_eq!(rules(&v), [RuleId::InvalidDate]);
    }

    #[test]
    fn consent_scope_by_product_group_or_star() {
        let ok = [(ConsentAt, "2026-01-05"), (ConsentSource, "form")];
        for scope in ["garden", "bbq", "*", "cycling|garden", "Garden"] {
            let mut fields = ok.to_vec();
            fields.push((ConsentScope, scope));
            assert_eq!(
                judge(&["bbq"], &fields).basis,
                Some(Basis::Consent),
                "{scope}"
            );
        }
        let mut fields = ok.to_vec();
        fields.push((ConsentScope, "cycling"));
        let v = judge(&["bbq"], &fields);
        assert_eq!(rules(&v), [RuleId::OutOfScopeConsent]);
    }

    #[test]
    fn own_customer_with_broken_consent_gets_both_reasons() {
        let v = judge(
            &["bbq"],
            &[(ConsentSource, "form"), (Purchased, "bicycles")],
        );
        assert_eq!(
            rules(&v),
            [RuleId::IncompleteConsent, RuleId::UnrelatedProduct]
        );
    }

    #[test]
    fn purchased_list_never_soft_opt_in() {
        let v = judge(
            &["bbq"],
            &[(ListSource, "purchased:LeadsDirect"), (Purchased, "bbq")],
        );
        assert_eq!(rules(&v), [RuleId::PurchasedWithoutConsent]);
        let v = judge(
            &["bbq"],
            &[
                (ListSource, "purchased"),
                (ConsentAt, "2026-01-01"),
                (ConsentSource, "supplier record 17"),
            ],
        );
        assert_eq!(v.basis, Some(Basis::Consent));
    }

    #[test]
    fn the_judge_takes_the_rows_own_deliverable_answer() {
        // A CSV row's answer comes from the reading thread: the judge must
        // ask the row rather than work it out again. A row that answers
        // against its address shows which the judge went by.
        struct Answered(Table, bool);
        impl Fields for Answered {
            fn get(&self, field: Field) -> &str {
                self.0.get(field)
            }
            fn address_is_deliverable(&self) -> bool {
                self.1
            }
        }
        let suppression = Suppression::default();
        let campaign = campaign(&["bbq"]);
        let judge = Judge::new(&campaign, &suppression);
        let fields = [(ListSource, "purchased"), (Purchased, "bbq")];
        let good = judge.judge(&Answered(row(&fields), true), None);
        assert!(!rules(&good).contains(&RuleId::InvalidAddress));
        let bad = judge.judge(&Answered(row(&fields), false), None);
        assert_eq!(rules(&bad), [RuleId::InvalidAddress]);
        // The default answer is the address's own.
        assert!(row(&[]).address_is_deliverable());
        assert!(!row(&[(Email, "jan@example")]).address_is_deliverable());
        assert!(!row(&[(Email, "")]).address_is_deliverable());
    }

    #[test]
    fn invalid_and_unsubscribed_stop_the_row() {
        let v = judge(&["bbq"], &[(Email, "jan@example")]);
        assert_eq!(rules(&v), [RuleId::InvalidAddress]);
        let v = judge(
            &["bbq"],
            &[(UnsubscribedAt, "gisteren"), (Purchased, "bicycles")],
        );
        assert_eq!(rules(&v), [RuleId::Unsubscribed]);
    }

    #[test]
    fn stale_purchase_and_unreadable_purchase_date() {
        let v = judge(
            &["bbq"],
            &[(Purchased, "bbq"), (LastPurchaseAt, "2019-06-01")],
        );
        assert_eq!(
            (v.basis, rules(&v)),
            (Some(Basis::SoftOptIn), vec![RuleId::StaleCustomer])
        );
        let v = judge(
            &["bbq"],
            &[(Purchased, "bbq"), (LastPurchaseAt, "2025-03-02")],
        );
        assert!(v.reasons.is_empty(), "23 months is not stale");
        let v = judge(
            &["bbq"],
            &[(Purchased, "bbq"), (LastPurchaseAt, "vorig jaar")],
        );
        assert_eq!(rules(&v), [RuleId::InvalidDate]);
    }

    fn judge_under(
        jurisdiction: Jurisdiction,
        products: &[&str],
        fields: &[(Field, &'static str)],
    ) -> Verdict<'static> {
        let suppression = Suppression::default();
        let mut campaign = campaign(products);
        campaign.jurisdiction = jurisdiction;
        Judge::new(&campaign, &suppression)
            .judge(&row(fields), None)
            .into_owned()
    }

    #[test]
    fn a_stale_purchase_blocks_under_ca_only() {
        let stale = [(Purchased, "bbq"), (LastPurchaseAt, "2019-06-01")];
        for jurisdiction in [Jurisdiction::Nl, Jurisdiction::Eu, Jurisdiction::Us] {
            let v = judge_under(jurisdiction, &["bbq"], &stale);
            assert_eq!(v.basis, Some(Basis::SoftOptIn), "{jurisdiction:?}");
            assert!(!v.blocked());
        }
        let v = judge_under(Jurisdiction::Ca, &["bbq"], &stale);
        assert!(v.blocked());
        assert_eq!(rules(&v), [RuleId::StaleCustomer]);
        // A consent basis is not touched by the purchase's age.
        let consent = [
            (Purchased, "bbq"),
            (LastPurchaseAt, "2019-06-01"),
            (ConsentAt, "2026-01-05"),
            (ConsentSource, "form"),
        ];
        assert!(!judge_under(Jurisdiction::Ca, &["bbq"], &consent).blocked());
    }

    #[test]
    fn under_us_an_own_customer_needs_no_similar_purchase() {
        let v = judge_under(Jurisdiction::Us, &["bbq"], &[(Purchased, "bicycles")]);
        assert_eq!((v.basis, rules(&v)), (Some(Basis::SoftOptIn), vec![]));
        let v = judge_under(Jurisdiction::Us, &["bbq"], &[(Customer, "ja")]);
        assert_eq!(v.basis, Some(Basis::SoftOptIn));
        // Non-customers and bought addresses still need consent.
        assert!(judge_under(Jurisdiction::Us, &["bbq"], &[]).blocked());
        let bought = [(ListSource, "purchased"), (Purchased, "bbq")];
        assert!(judge_under(Jurisdiction::Us, &["bbq"], &bought).blocked());
    }

    #[test]
    fn an_unreadable_purchase_date_leaves_no_basis_and_every_reason() {
        let v = judge(
            &["bbq"],
            &[
                (Purchased, "bbq"),
                (LastPurchaseAt, "vorig jaar"),
                (ConsentSource, "form"),
            ],
        );
        assert!(v.blocked());
        assert_eq!(rules(&v), [RuleId::InvalidDate, RuleId::IncompleteConsent]);
    }

    #[test]
    fn stale_consent_only_when_configured() {
        let fields = [(ConsentAt, "2020-01-01"), (ConsentSource, "form")];
        assert!(judge(&["bbq"], &fields).reasons.is_empty());
        let suppression = Suppression::default();
        let mut campaign = campaign(&["bbq"]);
        campaign.consent_max_age_months = 24;
        let v = Judge::new(&campaign, &suppression)
            .judge(&row(&fields), None)
            .into_owned();
        assert_eq!(rules(&v), [RuleId::StaleConsent]);
    }

    #[test]
    fn duplicate_is_reported_and_row_still_judged() {
        let suppression = Suppression::default();
        let campaign = campaign(&["bbq"]);
        let v = Judge::new(&campaign, &suppression)
            .judge(&row(&[]), Some(4))
            .into_owned();
        assert_eq!(rules(&v), [RuleId::DuplicateAddress, RuleId::NoConsent]);
        assert!(v.reasons[0].message.contains("line 4"));
    }

    #[test]
    fn customer_without_purchases_recorded() {
        let v = judge(&["bbq"], &[(Customer, "ja")]);
        assert_eq!(rules(&v), [RuleId::UnrelatedProduct]);
        assert!(v.reasons[0].message.contains("no purchase recorded"));
    }

    #[test]
    fn soft_opt_in_tried_only_for_own_customers_without_consent() {
        assert!(judge(&["bbq"], &[(Purchased, "bbq")]).soft_opt_in_tried);
        assert!(judge(&["bbq"], &[(Purchased, "bicycles")]).soft_opt_in_tried);
        let consent = [
            (Purchased, "bbq"),
            (ConsentAt, "2026-01-05"),
            (ConsentSource, "form"),
        ];
        assert!(!judge(&["bbq"], &consent).soft_opt_in_tried);
        assert!(
            !judge(&["bbq"], &[(Purchased, "bbq"), (ListSource, "purchased")]).soft_opt_in_tried
        );
        assert!(!judge(&["bbq"], &[]).soft_opt_in_tried, "not a customer");
        let unsubscribed = [(Purchased, "bbq"), (UnsubscribedAt, "2026-01-01")];
        assert!(!judge(&["bbq"], &unsubscribed).soft_opt_in_tried);
    }
}

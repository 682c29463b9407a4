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
use crate::levels::RuleId;
use crate::normalise::same_product;
use crate::recipients::address::is_deliverable;
use crate::recipients::list_source::{self, ListSource};
use crate::recipients::suppression::Suppression;
use crate::recipients::{Field, address_hash, parse_date};

mod cells;
mod coverage;

#[cfg(test)]
use cells::iso_date;
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

    /// The `list_source` value [`list_source::classify`]d. A row that has
    /// the answer already (a CSV row's reading thread works it out) gives
    /// it instead.
    fn list_source(&self) -> ListSource {
        list_source::classify(self.get(Field::ListSource))
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

    #[inline]
    fn list_source(&self) -> ListSource {
        crate::recipients::Row::list_source(self)
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
        let source = row.list_source();
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
mod tests;

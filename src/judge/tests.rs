//! Tests of the judge (SPEC §2), on rows given as tables.

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
            let expected = with_normalised(name, |n| coverage.by_name.get(n).copied().unwrap_or(0));
            assert_eq!(coverage.bits(name), expected, "{name:?}");
            hits += usize::from(expected != 0);
        }
        assert!(hits >= 8, "{hits}");
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
    assert!(!judge(&["bbq"], &[(Purchased, "bbq"), (ListSource, "purchased")]).soft_opt_in_tried);
    assert!(!judge(&["bbq"], &[]).soft_opt_in_tried, "not a customer");
    let unsubscribed = [(Purchased, "bbq"), (UnsubscribedAt, "2026-01-01")];
    assert!(!judge(&["bbq"], &unsubscribed).soft_opt_in_tried);
}

//! Generates a realistic recipient list for the lint benchmark (issue 5):
//!
//! ```text
//! cargo run --release --example gen_recipients -- N OUT.csv [SEED]
//! ```
//!
//! writes `N` data rows with the SPEC §1.2 columns to `OUT.csv`, and beside
//! it the benchmark's `campaign.toml` and `draft.eml` (from `benches/data/`,
//! with `recipients` pointing at `OUT.csv`) and a suppression list
//! `unsubscribed.csv`. The same `N` and `SEED` always give the same bytes.
//!
//! The mix, per row (fractions of all rows, roughly):
//! - 0.3% invalid addresses, 0.5% case-variant duplicates of an earlier row,
//!   3% unsubscribed, 0.1% on the suppression list;
//! - 10% from a purchased list (70% of those with the supplier's consent
//!   record);
//! - 55% customers with 1–3 purchased categories (a quarter of them also
//!   with consent), the rest non-customers (three quarters with consent,
//!   a few of those incomplete or out of scope);
//! - Dutch names with diacritics and particles, 2% without a first name;
//!   dates in ISO 8601, Mailchimp and Dutch day-first forms, a few
//!   unreadable; quoted fields where the text holds a comma or a quote.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

const CAMPAIGN: &str = include_str!("../benches/data/campaign.toml");
const DRAFT: &str = include_str!("../benches/data/draft.eml");

const HEADER: [&str; 11] = [
    "email",
    "first_name",
    "last_name",
    "customer",
    "purchased",
    "last_purchase_at",
    "consent_at",
    "consent_source",
    "consent_scope",
    "list_source",
    "unsubscribed_at",
];

/// First names as written, with their ASCII form for the address.
const FIRST_NAMES: &[(&str, &str)] = &[
    ("Jan", "jan"),
    ("Sanne", "sanne"),
    ("Zoë", "zoe"),
    ("Daniël", "daniel"),
    ("Joëlle", "joelle"),
    ("Noël", "noel"),
    ("Chloë", "chloe"),
    ("René", "rene"),
    ("André", "andre"),
    ("Inês", "ines"),
    ("Ayşe", "ayse"),
    ("Özlem", "ozlem"),
    ("Thijs", "thijs"),
    ("Jeroen", "jeroen"),
    ("Anouk", "anouk"),
    ("Mila", "mila"),
    ("Daan", "daan"),
    ("Sem", "sem"),
    ("Lotte", "lotte"),
    ("Fenna", "fenna"),
    ("Brecht", "brecht"),
    ("Maaike", "maaike"),
    ("Ruud", "ruud"),
    ("Ingrid", "ingrid"),
    ("Henk", "henk"),
    ("Gijs", "gijs"),
    ("Eliëlle", "elielle"),
    ("Mohamed", "mohamed"),
    ("Fatima", "fatima"),
    ("Kübra", "kubra"),
];

/// Last names as written, with their ASCII form for the address.
const LAST_NAMES: &[(&str, &str)] = &[
    ("de Vries", "devries"),
    ("van der Meer", "vandermeer"),
    ("Jansen", "jansen"),
    ("de Jong", "dejong"),
    ("Bakker", "bakker"),
    ("Visser", "visser"),
    ("Smit", "smit"),
    ("van den Berg", "vandenberg"),
    ("Dekker", "dekker"),
    ("van 't Hek", "vanthek"),
    ("Özdemir", "ozdemir"),
    ("Çelik", "celik"),
    ("Hoekstra", "hoekstra"),
    ("Brouwer", "brouwer"),
    ("Mulder", "mulder"),
    ("Vermeulen", "vermeulen"),
    ("D'Hondt", "dhondt"),
    ("Müller", "muller"),
    ("Peeters", "peeters"),
    ("Kuijpers", "kuijpers"),
    ("Vries, de", "devries"),
    ("Berg, van den", "vandenberg"),
    ("Jong, \"Sjonnie\" de", "dejong"),
];

const DOMAINS: &[&str] = &[
    "gmail.com",
    "hotmail.nl",
    "outlook.com",
    "ziggo.nl",
    "kpnmail.nl",
    "xs4all.nl",
    "planet.nl",
    "icloud.com",
    "live.nl",
    "telenet.be",
];

/// Product categories a shop sells; the campaign promotes two garden ones.
const PRODUCTS: &[&str] = &[
    "garden-furniture",
    "parasols",
    "bbq",
    "plants",
    "bicycles",
    "e-bikes",
    "cycling-apparel",
    "cookware",
    "knives",
];

const INVALID: &[&str] = &[
    "jan@example",
    "piet..jansen@ziggo.nl",
    "info@bakkerij,nl",
    "geen e-mail",
    "",
    "marie@hotmail.nl.",
    ".anna@gmail.com",
    "kees@@planet.nl",
];

const CONSENT_SOURCES: &[&str] = &[
    "https://delinde.example/aanmelden",
    "double opt-in",
    "webformulier, nieuwsbrief",
    "kassa, winkel Veenendaal",
    "mailchimp (confirm ip 192.0.2.7)",
];

/// Addresses remembered for case-variant duplicates.
const RECENT: usize = 4096;

struct Generator {
    rng: fastrand::Rng,
    recent: Vec<String>,
    row: u64,
}

impl Generator {
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.rng.usize(..items.len())]
    }

    fn chance(&mut self, p: f64) -> bool {
        self.rng.f64() < p
    }

    /// A date `days_back` (at most) before 2027-03-01, in one of the forms
    /// recipient lists use.
    fn date(&mut self, max_days_back: u32) -> String {
        // Days since 2027-03-01, mapped onto a simple 12×28-day calendar
        // walk; good enough for varied, valid dates.
        let back = self.rng.u32(0..max_days_back);
        let mut year = 2027 - (back / 336) as i32;
        let mut month = 3 - ((back % 336) / 28) as i32;
        if month < 1 {
            month += 12;
            year -= 1;
        }
        let day = 1 + (back % 28);
        match self.rng.u8(0..10) {
            0..=4 => format!("{year}-{month:02}-{day:02}"),
            5 | 6 => format!("{day:02}-{month:02}-{year}"),
            7 => format!("{day}-{month}-{year}"),
            8 => format!(
                "{year}-{month:02}-{day:02} {:02}:{:02}:00",
                self.rng.u8(8..22),
                self.rng.u8(0..60)
            ),
            _ => format!(
                "{year}-{month:02}-{day:02}T{:02}:15:00Z",
                self.rng.u8(0..24)
            ),
        }
    }

    fn address(&mut self, first: &str, last: &str) -> String {
        let domain = self.pick(DOMAINS);
        let n = self.row;
        match self.rng.u8(0..4) {
            0 => format!("{first}.{last}{n}@{domain}"),
            1 => format!("{}.{last}.{n}@{domain}", &first[..1]),
            2 => format!("{first}{n}@{domain}"),
            _ => format!("{first}_{last}+nieuws{n}@{domain}"),
        }
    }

    /// The same address in other case: `Jan.Devries12@Ziggo.NL`.
    fn case_variant(address: &str) -> String {
        let (local, domain) = address.split_once('@').unwrap_or((address, ""));
        let mut out = String::with_capacity(address.len());
        let mut chars = local.chars();
        if let Some(c) = chars.next() {
            out.extend(c.to_uppercase());
        }
        out.extend(chars);
        out.push('@');
        out.push_str(&domain.to_uppercase());
        out
    }

    fn purchases(&mut self) -> String {
        let count = 1 + self.rng.usize(..3);
        let mut items: Vec<&str> = Vec::with_capacity(count);
        while items.len() < count {
            let item = self.pick(PRODUCTS);
            if !items.contains(&item) {
                items.push(item);
            }
        }
        let separator = if self.chance(0.2) { ";" } else { "|" };
        items.join(separator)
    }

    /// Fills `row` with the next recipient, and says whether its address
    /// should also go on the suppression list.
    fn next(&mut self, row: &mut [String; 11]) -> bool {
        self.row += 1;
        for cell in row.iter_mut() {
            cell.clear();
        }
        let (first, first_ascii) = FIRST_NAMES[self.rng.usize(..FIRST_NAMES.len())];
        let (last, last_ascii) = LAST_NAMES[self.rng.usize(..LAST_NAMES.len())];
        let kind = self.rng.f64();
        let fresh = kind >= 0.008;
        let email = if kind < 0.003 {
            self.pick(INVALID).to_owned()
        } else if kind < 0.008 && !self.recent.is_empty() {
            let earlier = &self.recent[self.rng.usize(..self.recent.len())];
            Self::case_variant(earlier)
        } else {
            let address = self.address(first_ascii, last_ascii);
            if self.recent.len() < RECENT {
                self.recent.push(address.clone());
            } else {
                let i = self.rng.usize(..RECENT);
                self.recent[i] = address.clone();
            }
            address
        };
        row[0] = email;
        if !self.chance(0.02) {
            row[1].push_str(first);
        }
        row[2].push_str(last);

        let purchased_list = self.chance(0.10);
        let customer = !purchased_list && self.chance(0.55 / 0.90);
        if purchased_list {
            row[9].push_str(if self.chance(0.5) {
                "purchased:LeadsDirect B.V."
            } else {
                "purchased"
            });
        } else if self.chance(0.3) {
            row[9].push_str("own");
        }
        if customer {
            let value = self.pick(&["ja", "yes", "true", "1", "Ja", ""]);
            row[3].push_str(value);
            row[4] = self.purchases();
            if self.chance(0.001) {
                row[5].push_str("vorig jaar");
            } else {
                row[5] = self.date(1200);
            }
        } else if self.chance(0.5) {
            row[3].push_str(self.pick(&["nee", "no", "false", "0"]));
        }

        let consent = if purchased_list {
            self.chance(0.7)
        } else if customer {
            self.chance(0.25)
        } else {
            self.chance(0.75)
        };
        if consent {
            let defect = self.rng.f64();
            if defect < 0.02 {
                // Incomplete: one half of the record.
                if self.chance(0.5) {
                    row[6] = self.date(1500);
                } else {
                    row[7].push_str(self.pick(CONSENT_SOURCES));
                }
            } else {
                row[6] = if defect < 0.025 {
                    "30-02-2026".to_owned()
                } else {
                    self.date(1500)
                };
                row[7].push_str(if purchased_list {
                    "supplier record LeadsDirect"
                } else {
                    self.pick(CONSENT_SOURCES)
                });
                let scope = self.rng.f64();
                if scope < 0.03 {
                    row[8].push_str("cycling");
                } else if scope < 0.15 {
                    row[8].push_str(self.pick(&["garden", "*", "garden|cycling", "Garden"]));
                }
            }
        }
        if self.chance(0.03) {
            row[10] = self.date(400);
        }
        fresh && self.chance(0.001)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(n), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("usage: gen_recipients N OUT.csv [SEED]");
        std::process::exit(2);
    };
    let Ok(n) = n.replace('_', "").parse::<u64>() else {
        eprintln!("gen_recipients: N must be a number, not {n:?}");
        std::process::exit(2);
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 5,
        Some(Ok(seed)) => seed,
        Some(Err(_)) => {
            eprintln!("gen_recipients: SEED must be a number");
            std::process::exit(2);
        }
    };
    if let Err(e) = generate(n, Path::new(out), seed) {
        eprintln!("gen_recipients: {e}");
        std::process::exit(1);
    }
}

fn generate(n: u64, out: &Path, seed: u64) -> std::io::Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir)?;
    let file = BufWriter::with_capacity(1 << 20, File::create(out)?);
    let mut csv = csv::Writer::from_writer(file);
    let mut suppressed = Vec::new();
    csv.write_record(HEADER)?;
    let mut generator = Generator {
        rng: fastrand::Rng::with_seed(seed),
        recent: Vec::with_capacity(RECENT),
        row: 0,
    };
    let mut row: [String; 11] = Default::default();
    for _ in 0..n {
        if generator.next(&mut row) {
            suppressed.push(row[0].to_lowercase());
        }
        csv.write_record(&row)?;
    }
    csv.flush()?;

    let mut suppression = BufWriter::new(File::create(dir.join("unsubscribed.csv"))?);
    writeln!(suppression, "email")?;
    for address in suppressed {
        writeln!(suppression, "{address}")?;
    }
    suppression.flush()?;

    let name = out
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("recipients.csv");
    let campaign = CAMPAIGN.replace(
        "recipients = \"recipients.csv\"",
        &format!("recipients = \"{name}\""),
    );
    std::fs::write(dir.join("campaign.toml"), campaign)?;
    std::fs::write(dir.join("draft.eml"), DRAFT)?;
    Ok(())
}

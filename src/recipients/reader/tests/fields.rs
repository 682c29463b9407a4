//! What a row says: the header mapping, `[columns]` overrides, the
//! Mailchimp and listmonk presets, template variables.

use super::*;

#[test]
fn row_get_reads_what_the_field_mapping_says() {
    for name in EXPORTS {
        let mut reader = open(&data(name));
        assert!(assert_get_agrees_with_field(&mut reader) > 0, "{name}");
    }
    // Short and long rows, cells with spaces, an unmapped header, and a
    // `[columns]` override.
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        &dir,
        b"Mail,klant,extra,purchased, consent_at \n\
              jan@example.nl , ja ,x, bbq|e-bikes ,2026-01-01\n\
              piet@example.nl\n\
              kees@example.nl,nee,,,,, \n\
              \"anna@example.nl\",\" \",\"\",\"\xc2\xa0Zo\xc3\xab\",\t2026-02-30\t\n",
    );
    let mut reader = RecipientReader::open(&path, &[(Field::Email, "Mail".to_owned())]).unwrap();
    assert_eq!(reader.preset(), Preset::Plain);
    assert_eq!(assert_get_agrees_with_field(&mut reader), 4);
    let mut reader = RecipientReader::open(&path, &[(Field::Email, "Mail".to_owned())]).unwrap();
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "jan@example.nl");
    assert_eq!(row.get(Field::Customer), "ja");
    assert_eq!(row.get(Field::Purchased), "bbq|e-bikes");
    assert_eq!(row.get(Field::ConsentAt), "2026-01-01");
    assert_eq!(row.get(Field::LastName), "");
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "piet@example.nl");
    assert_eq!(row.get(Field::ConsentAt), "");
}

#[test]
fn values_are_trimmed_by_get_and_raw_by_value() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, b"email,naam\n  a@x.nl , Ann \n");
    let mut reader = open(&path);
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "a@x.nl");
    assert_eq!(row.value(0), "  a@x.nl ");
    assert_eq!(row.var("name"), Some("Ann"));
}

#[test]
fn mailchimp_export() {
    let mut reader = open(&data("mailchimp.csv"));
    assert_eq!(reader.preset(), Preset::Mailchimp);
    assert_eq!(
        reader.columns().header_of(Field::ConsentAt),
        Some("CONFIRM_TIME")
    );
    assert_eq!(
        reader.columns().header_of(Field::Email),
        Some("Email Address")
    );

    // Confirmed (double opt-in): CONFIRM_TIME and CONFIRM_IP.
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "anna@example.nl");
    assert_eq!(row.get(Field::FirstName), "Anna");
    assert_eq!(row.get(Field::ConsentAt), "2026-05-01 09:05:00");
    assert_eq!(
        row.get(Field::ConsentSource),
        "mailchimp (confirm ip 192.0.2.7)"
    );
    assert_eq!(row.var("consent_at"), Some("2026-05-01 09:05:00"));
    assert_eq!(row.var("member_rating"), Some("2"));
    assert_eq!(row.get(Field::UnsubscribedAt), "");

    // Single opt-in: OPTIN_TIME and OPTIN_IP.
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::ConsentAt), "2026-06-01 10:00:00");
    assert_eq!(
        row.get(Field::ConsentSource),
        "mailchimp (optin ip 198.51.100.4)"
    );

    // No IP recorded.
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::ConsentAt), "2026-07-01 11:00:00");
    assert_eq!(row.get(Field::ConsentSource), "mailchimp");

    // Imported without opt-in: no consent, and no source either.
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::ConsentAt), "");
    assert_eq!(row.get(Field::ConsentSource), "");
    assert_eq!(row.var("notes"), Some("imported, no opt-in"));

    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::UnsubscribedAt), "2026-12-24 18:00:00");
    assert_eq!(row.line(), 6);
    assert!(reader.next_row().unwrap().is_none());
}

#[test]
fn mailchimp_with_consent_at_override_reads_only_that_column() {
    let overrides = [(Field::ConsentAt, "CONFIRM_TIME".to_owned())];
    let mut reader = RecipientReader::open(&data("mailchimp.csv"), &overrides).unwrap();
    reader.next_row().unwrap();
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "bert@example.nl");
    assert_eq!(row.get(Field::ConsentAt), "", "no fallback to OPTIN_TIME");
    assert_eq!(row.get(Field::ConsentSource), "");
    assert_eq!(row.var("optin_time"), Some("2026-06-01 10:00:00"));
}

#[test]
fn listmonk_export() {
    let mut reader = open(&data("listmonk.csv"));
    assert_eq!(reader.preset(), Preset::Listmonk);

    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "anna@example.nl");
    assert_eq!(row.get(Field::Name), "Anna Bakker");
    assert_eq!(row.get(Field::Customer), "true");
    assert_eq!(row.get(Field::Purchased), "bicycles|e-bikes");
    assert_eq!(row.get(Field::LastPurchaseAt), "2026-09-01");
    assert_eq!(row.get(Field::UnsubscribedAt), "");
    assert_eq!(row.var("city"), Some("Utrecht"));
    assert_eq!(row.var("visits"), Some("12"));
    assert_eq!(row.var("created_at"), Some("2026-01-01 10:00:00"));
    assert_eq!(row.attributes_error(), None);
    assert_eq!(row.attributes().count(), 5);

    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::UnsubscribedAt), "blocklisted");
    assert_eq!(row.get(Field::ConsentAt), "2026-03-03T12:00:00Z");
    assert_eq!(row.get(Field::ConsentSource), "https://shop.example/form");
    assert_eq!(row.get(Field::FirstName), "Bertje");
    assert_eq!(
        row.get(Field::Customer),
        "",
        "not carried over from the last row"
    );
    assert_eq!(row.var("first_name"), Some("Bertje"));
    assert_eq!(row.var("city"), Some(""), "seen on an earlier row");

    let row = reader.next_row().unwrap().unwrap();
    assert!(row.attributes_error().unwrap().contains("JSON"));
    assert_eq!(row.get(Field::FirstName), "");
    assert_eq!(row.get(Field::Email), "carla@example.nl");

    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.attributes_error(), None);
    assert_eq!(
        row.get(Field::UnsubscribedAt),
        "",
        "disabled is not opted out"
    );
    assert!(reader.next_row().unwrap().is_none());

    let keys: Vec<_> = reader.attribute_keys().iter().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "city",
            "consent_at",
            "consent_source",
            "customer",
            "first_name",
            "last_purchase_at",
            "purchased",
            "visits",
        ]
    );
}

#[test]
fn columns_override_maps_an_unaliased_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, b"Contact,Opt-in datum\na@x.nl,2027-01-01\n");
    let overrides = [
        (Field::Email, "contact".to_owned()),
        (Field::ConsentAt, "Opt-in Datum".to_owned()),
    ];
    let mut reader = RecipientReader::open(&path, &overrides).unwrap();
    assert_eq!(
        reader.columns().header_of(Field::ConsentAt),
        Some("Opt-in datum")
    );
    let row = reader.next_row().unwrap().unwrap();
    assert_eq!(row.get(Field::Email), "a@x.nl");
    assert_eq!(row.get(Field::ConsentAt), "2027-01-01");
    assert_eq!(row.var("consent_at"), Some("2027-01-01"));
}

#[test]
fn override_of_a_missing_header_is_an_error_on_the_header_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(&dir, b"email,naam\na@x.nl,A\n");
    let overrides = [(Field::ConsentAt, "Toestemming datum".to_owned())];
    let Err(err) = RecipientReader::open(&path, &overrides) else {
        panic!("opened");
    };
    assert_eq!(err.line, Some(1));
    assert_eq!(err.path, path);
    let text = err.to_string();
    assert!(
        text.contains("recipients.csv:1: [columns] consent_at"),
        "{text}"
    );
    assert!(text.contains("\"email\", \"naam\""), "{text}");
}

#[test]
fn missing_email_column_is_an_error() {
    let err = open_error(b"naam;telefoon\nJan;0612345678\n");
    assert_eq!(err.line, Some(1));
    assert!(err.message.contains("no email column"), "{}", err.message);
    assert!(
        err.message.contains("\"naam\", \"telefoon\""),
        "{}",
        err.message
    );
    assert!(
        err.message.contains("[columns] email = "),
        "{}",
        err.message
    );
}

#[test]
fn variables_resolved_once_read_as_by_name() {
    for file in ["mailchimp.csv", "listmonk.csv", "windows-1252.csv"] {
        let mut reader = open(&data(file));
        let mut names: Vec<String> = reader
            .columns()
            .columns
            .iter()
            .map(|c| c.var.clone())
            .collect();
        names.extend(["city", "first_name", "consent_source", "nope"].map(String::from));
        let resolved: Vec<VarRef> = names.iter().map(|n| reader.resolve_var(n)).collect();
        while let Some(row) = reader.next_row().unwrap() {
            for (name, var) in names.iter().zip(&resolved) {
                assert_eq!(row.var_at(*var, name), row.var(name), "{file}: {name}");
            }
        }
    }
}

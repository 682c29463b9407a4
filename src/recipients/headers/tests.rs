//! Tests of the header mapping: aliases, presets, overrides, variable
//! names and the messages of a header that cannot be mapped.

use super::map::Mapping;
use super::names::snake_case;
use super::*;

fn strings(headers: &[&str]) -> Vec<String> {
    headers.iter().map(|h| (*h).to_owned()).collect()
}

fn map(headers: &[&str]) -> Mapping {
    map_header(&strings(headers), &[]).unwrap()
}

fn field_of(mapping: &Mapping, header: &str) -> Option<Field> {
    mapping
        .columns
        .columns
        .iter()
        .find(|c| c.header == header)
        .and_then(|c| c.field)
}

#[test]
fn aliases_match_ignoring_case_spaces_dashes_and_underscores() {
    let m = map(&[
        "E-mailadres",
        "VOORNAAM",
        "Achter_Naam",
        "Laatste aankoop",
        "Bron-Toestemming",
        "consent_at",
        "Herkomst",
        "Afgemeld",
        "Klant",
        "Products",
    ]);
    assert_eq!(m.preset, Preset::Plain);
    assert_eq!(field_of(&m, "E-mailadres"), Some(Field::Email));
    assert_eq!(field_of(&m, "VOORNAAM"), Some(Field::FirstName));
    assert_eq!(field_of(&m, "Achter_Naam"), Some(Field::LastName));
    assert_eq!(field_of(&m, "Laatste aankoop"), Some(Field::LastPurchaseAt));
    assert_eq!(field_of(&m, "Bron-Toestemming"), Some(Field::ConsentSource));
    assert_eq!(field_of(&m, "consent_at"), Some(Field::ConsentAt));
    assert_eq!(field_of(&m, "Herkomst"), Some(Field::ListSource));
    assert_eq!(field_of(&m, "Afgemeld"), Some(Field::UnsubscribedAt));
    assert_eq!(field_of(&m, "Klant"), Some(Field::Customer));
    assert_eq!(field_of(&m, "Products"), Some(Field::Purchased));
    assert_eq!(m.plain[Field::Email.index()], Some(0));
    assert_eq!(
        m.columns.header_of(Field::ConsentSource),
        Some("Bron-Toestemming")
    );
    assert!(!m.columns.has(Field::ConsentScope));
}

#[test]
fn two_consent_at_columns_were_read_as_the_first_silently() {
    let err = map_header(&strings(&["email", "consent_at", "Consent Date"]), &[]).unwrap_err();
    assert!(
        err.contains(
            "two columns hold consent_at: \"consent_at\" (column 2) and \"Consent Date\" (column 3)"
        ),
        "{err}"
    );
    assert!(err.contains("[columns] consent_at"), "{err}");
    let err = map_header(&strings(&["Email", "E-mail"]), &[]).unwrap_err();
    assert!(
        err.contains("\"Email\" (column 1) and \"E-mail\" (column 2)"),
        "{err}"
    );
    // [columns] chooses; the other column is a variable of its own.
    let m = map_header(
        &strings(&["email", "consent_at", "Consent Date"]),
        &[(Field::ConsentAt, "Consent Date".to_owned())],
    )
    .unwrap();
    assert_eq!(field_of(&m, "Consent Date"), Some(Field::ConsentAt));
    assert_eq!(field_of(&m, "consent_at"), None);
    let m = map(&["email", "Tel.", "tel"]);
    let vars: Vec<_> = m.columns.vars().collect();
    assert_eq!(vars, ["email", "tel", "tel_2"]);
}

#[test]
fn a_misspelt_header_is_likely_its_field() {
    assert_eq!(likely_field("Emial"), Some(Field::Email));
    assert_eq!(
        likely_field("Laatste aankoopp"),
        Some(Field::LastPurchaseAt)
    );
    assert_eq!(likely_field("Herkomt"), Some(Field::ListSource));
    assert_eq!(likely_field("consent_att"), Some(Field::ConsentAt));
    assert_eq!(likely_field("Klantnummer"), None);
    assert_eq!(likely_field("Telefoon"), None);
}

#[test]
fn a_mapped_column_is_a_variable_under_its_header_too() {
    let m = map(&["E-mailadres", "Voornaam", "Klant Nummer", "first_name_2"]);
    let column = |header: &str| {
        m.columns
            .columns
            .iter()
            .find(|c| c.header == header)
            .unwrap()
    };
    assert_eq!(column("Voornaam").var, "first_name");
    assert_eq!(column("Voornaam").header_var.as_deref(), Some("voornaam"));
    assert_eq!(
        column("E-mailadres").header_var.as_deref(),
        Some("e_mailadres")
    );
    assert_eq!(
        column("Klant Nummer").header_var,
        None,
        "unmapped: var is the header"
    );
    let vars: Vec<_> = m.columns.vars().collect();
    for var in [
        "email",
        "first_name",
        "klant_nummer",
        "voornaam",
        "e_mailadres",
    ] {
        assert!(vars.contains(&var), "{var}: {vars:?}");
    }
    assert_eq!(
        m.columns.column_of_var("voornaam").unwrap().header,
        "Voornaam"
    );
    // A header whose snake_case is a field's name adds nothing.
    let m = map(&["email", "first_name"]);
    assert!(m.columns.columns.iter().all(|c| c.header_var.is_none()));
}

#[test]
fn unmapped_columns_are_snake_case_variables() {
    assert_eq!(snake_case("Klant Nummer", 0), "klant_nummer");
    assert_eq!(snake_case("  Klant--Nummer (oud) ", 0), "klant_nummer_oud");
    assert_eq!(snake_case("Geïnteresseerd in", 0), "geinteresseerd_in");
    assert_eq!(snake_case("2e adres", 0), "col_2e_adres");
    assert_eq!(snake_case(" ?? ", 4), "column_5");
    let m = map(&["Email", "Klant Nummer"]);
    assert_eq!(m.columns.columns[0].var, "email");
    assert_eq!(m.columns.columns[1].var, "klant_nummer");
}

#[test]
fn override_wins_over_alias() {
    let overrides = [
        (Field::Email, "contact".to_owned()),
        (Field::ConsentAt, "Optin datum".to_owned()),
    ];
    let m = map_header(
        &strings(&["E-mail oud", "Contact", "Consent", "Optin Datum"]),
        &overrides,
    )
    .unwrap();
    assert_eq!(m.columns.header_of(Field::Email), Some("Contact"));
    assert_eq!(m.columns.header_of(Field::ConsentAt), Some("Optin Datum"));
    assert_eq!(field_of(&m, "Consent"), None);
    assert_eq!(m.columns.columns[2].var, "consent");
    assert_eq!(m.plain[Field::ConsentAt.index()], Some(3));
}

#[test]
fn override_naming_an_absent_header_is_an_error() {
    let overrides = [(Field::ConsentAt, "Opt-in".to_owned())];
    let err = map_header(&strings(&["email", "naam"]), &overrides).unwrap_err();
    assert!(err.contains("consent_at"), "{err}");
    assert!(err.contains("\"Opt-in\""), "{err}");
    assert!(err.contains("\"email\", \"naam\""), "{err}");
    assert!(err.contains("[columns]"), "{err}");
}

#[test]
fn two_fields_on_one_column_is_an_error() {
    let overrides = [
        (Field::Name, "Naam".to_owned()),
        (Field::FirstName, "naam".to_owned()),
    ];
    let err = map_header(&strings(&["email", "Naam"]), &overrides).unwrap_err();
    assert!(err.contains("both name and first_name"), "{err}");
}

#[test]
fn missing_email_column_suggests_a_columns_entry() {
    let err = map_header(&strings(&["Naam", "Mailadres klant"]), &[]).unwrap_err();
    assert!(err.contains("no email column"), "{err}");
    assert!(err.contains("\"Naam\", \"Mailadres klant\""), "{err}");
    assert!(
        err.contains("[columns] email = \"Mailadres klant\""),
        "{err}"
    );
    let err = map_header(&strings(&["jan@example.nl"]), &[]).unwrap_err();
    assert!(err.contains("holds an address"), "{err}");
}

#[test]
fn mailchimp_header_derives_consent_from_confirm_then_optin() {
    let m = map(&[
        "Email Address",
        "First Name",
        "Last Name",
        "MEMBER_RATING",
        "OPTIN_TIME",
        "OPTIN_IP",
        "CONFIRM_TIME",
        "CONFIRM_IP",
        "UNSUB_TIME",
    ]);
    assert_eq!(m.preset, Preset::Mailchimp);
    assert_eq!(m.columns.preset(), Preset::Mailchimp);
    assert_eq!(m.columns.header_of(Field::ConsentAt), Some("CONFIRM_TIME"));
    assert_eq!(
        m.columns.header_of(Field::ConsentSource),
        Some("CONFIRM_IP")
    );
    assert_eq!(
        m.columns.header_of(Field::UnsubscribedAt),
        Some("UNSUB_TIME")
    );
    assert_eq!(m.plain[Field::ConsentAt.index()], None);
    assert_eq!(m.plain[Field::UnsubscribedAt.index()], Some(8));
    let mc = m.mailchimp.unwrap();
    assert!(mc.derive_consent_at && mc.derive_consent_source);
    assert_eq!(m.columns.columns[3].var, "member_rating");
    let vars: Vec<_> = m.columns.vars().collect();
    assert_eq!(vars.iter().filter(|v| **v == "consent_at").count(), 1);
}

#[test]
fn mailchimp_without_ip_columns_names_the_time_as_source() {
    let m = map(&["Email Address", "OPTIN_TIME"]);
    assert_eq!(m.columns.header_of(Field::ConsentAt), Some("OPTIN_TIME"));
    assert_eq!(
        m.columns.header_of(Field::ConsentSource),
        Some("OPTIN_TIME")
    );
}

#[test]
fn mailchimp_override_of_consent_at_stops_the_derivation() {
    let overrides = [(Field::ConsentAt, "CONFIRM_TIME".to_owned())];
    let m = map_header(
        &strings(&["Email Address", "OPTIN_TIME", "CONFIRM_TIME"]),
        &overrides,
    )
    .unwrap();
    assert!(!m.mailchimp.unwrap().derive_consent_at);
    assert_eq!(m.plain[Field::ConsentAt.index()], Some(2));
    assert_eq!(field_of(&m, "OPTIN_TIME"), None);
    assert_eq!(m.columns.columns[1].var, "optin_time");
}

#[test]
fn listmonk_header_maps_status_and_attributes() {
    let m = map(&[
        "uuid",
        "email",
        "name",
        "attributes",
        "status",
        "created_at",
        "updated_at",
    ]);
    assert_eq!(m.preset, Preset::Listmonk);
    assert_eq!(m.columns.header_of(Field::UnsubscribedAt), Some("status"));
    assert_eq!(m.columns.header_of(Field::Name), Some("name"));
    assert_eq!(m.columns.header_of(Field::Customer), Some("attributes"));
    assert!(m.columns.column(Field::Customer).is_none());
    assert_eq!(m.plain[Field::UnsubscribedAt.index()], None);
    let l = m.listmonk.unwrap();
    assert_eq!((l.status, l.attributes), (Some(4), Some(3)));
}

#[test]
fn attribute_keys_name_fields_by_their_own_name_only() {
    assert_eq!(field_for_attribute("consent_at"), Some(Field::ConsentAt));
    assert_eq!(field_for_attribute("firstName"), Some(Field::FirstName));
    assert_eq!(field_for_attribute("source"), None);
}

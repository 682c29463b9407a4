use std::path::Path;

use super::super::test_support::{draft, fixture, load};
use crate::draft::{Draft, DraftError, PartKind};

fn kinds_and_lines(d: &Draft) -> Vec<(PartKind, u64)> {
    d.parts.iter().map(|p| (p.kind, p.line)).collect()
}

fn parse_error(bytes: &[u8]) -> DraftError {
    Draft::parse(Path::new("test.eml"), bytes.to_vec()).expect_err("must not parse")
}

#[test]
fn thunderbird_quoted_printable_alternative() {
    let d = load("thunderbird_alternative.eml");
    let subject = d.header("subject").expect("Subject header");
    assert_eq!(subject.name, "Subject");
    assert_eq!(subject.line, 9);
    // Two encoded words over a folded line, joined without a space.
    assert_eq!(
        subject.value,
        "Voorjaarsactie: cafétafels en parasols voor {{ first_name }}"
    );
    assert_eq!(d.subject.as_deref(), Some(subject.value.as_str()));
    let content_type = d.header("Content-Type").expect("Content-Type");
    assert_eq!(content_type.line, 1);
    assert!(!content_type.value.contains('\n'), "unfolded");
    assert!(
        content_type
            .value
            .ends_with("boundary=\"------------0aXkT5Ru2bN8sQ1mVd3Lc7Hf\"")
    );
    assert_eq!(d.header("List-Unsubscribe").map(|h| h.line), Some(11));
    let names: Vec<&str> = d.headers.iter().map(|h| h.name.as_str()).collect();
    assert_eq!(names[..3], ["Content-Type", "Message-ID", "Date"]);

    assert_eq!(
        kinds_and_lines(&d),
        [(PartKind::Plain, 18), (PartKind::Html, 33)]
    );
    // `caf=C3=A9=` + soft line break + `tafels`.
    assert!(
        d.parts[0]
            .text
            .contains("korting op onze cafétafels en parasols.")
    );
    assert!(d.parts[1].text.contains("cafétafels"));
    assert!(
        d.parts[1]
            .text
            .contains(r#"<meta http-equiv="content-type""#)
    );
    assert!(!d.parts[0].text.contains('\r'), "line breaks normalised");
    assert!(d.attachments.is_empty());
}

#[test]
fn apple_mail_latin1_text_and_base64_html() {
    let d = load("apple_latin1_base64.eml");
    assert_eq!(
        d.header("mime-version").map(|h| h.name.as_str()),
        Some("Mime-Version")
    );
    assert_eq!(
        kinds_and_lines(&d),
        [(PartKind::Plain, 16), (PartKind::Html, 29)]
    );
    assert!(d.parts[0].text.contains("onze monteur René helpt u graag"));
    assert!(d.parts[1].text.contains("onze monteur René helpt u graag"));
    assert!(d.parts[1].text.starts_with("<html>"));
}

#[test]
fn outlook_windows_1252_with_office_tags() {
    let d = load("outlook_windows1252.eml");
    assert_eq!(
        kinds_and_lines(&d),
        [(PartKind::Plain, 17), (PartKind::Html, 29)]
    );
    // =96 is an en dash in windows-1252, =E9 is é.
    assert!(
        d.parts[0]
            .text
            .contains("in de winkel – proef ze in ons café")
    );
    assert!(d.parts[1].text.contains("<o:p>&nbsp;</o:p>"));
    assert!(d.parts[1].text.contains("in ons café bij de bakkerij"));
    assert_eq!(
        d.header("X-MS-Has-Attach").map(|h| h.value.as_str()),
        Some("")
    );
}

#[test]
fn mixed_with_csv_attachment() {
    let d = load("mixed_csv_attachment.eml");
    assert_eq!(
        kinds_and_lines(&d),
        [(PartKind::Plain, 15), (PartKind::Html, 25)]
    );
    assert_eq!(d.attachments.len(), 1);
    let csv = &d.attachments[0];
    assert_eq!(csv.filename.as_deref(), Some("klanten.csv"));
    assert_eq!(csv.content_type, "text/csv");
    assert_eq!(csv.line, 32);
    assert!(String::from_utf8_lossy(&csv.data).contains("jan@example.nl;Jan"));
}

#[test]
fn related_html_with_inline_image() {
    let d = load("related_inline_image.eml");
    assert_eq!(
        kinds_and_lines(&d),
        [(PartKind::Plain, 9), (PartKind::Html, 18)]
    );
    assert_eq!(d.attachments.len(), 1);
    let logo = &d.attachments[0];
    assert_eq!(logo.filename.as_deref(), Some("logo.png"));
    assert_eq!(logo.content_type, "image/png");
    assert_eq!(logo.line, 23);
    let png = std::fs::read(fixture("logo.png")).expect("logo.png");
    assert_eq!(logo.data, png);
}

#[test]
fn single_part_html_only() {
    let d = load("html_only.eml");
    assert_eq!(kinds_and_lines(&d), [(PartKind::Html, 7)]);
    assert!(d.parts[0].text.contains("Grünen Veltliner"));
    // A soft line break inside the template expression is undone.
    assert!(d.parts[0].text.contains("abmelden?id={{ email }}"));
}

#[test]
fn single_part_plain_without_content_type_headers() {
    let d = draft("From: a@example.nl\nSubject: Hoi\n\nBeste {{ first_name }},\n");
    assert_eq!(kinds_and_lines(&d), [(PartKind::Plain, 4)]);
    assert_eq!(d.parts[0].text, "Beste {{ first_name }},\n");
    assert_eq!(d.subject.as_deref(), Some("Hoi"));
}

#[test]
fn html_only_alternative_is_one_part() {
    // mail-parser lists an HTML-only alternative as both text and HTML
    // body; it is one part.
    let d = draft(
        "Subject: x\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
         Content-Type: text/html\n\n<p>Hallo</p>\n--b--\n",
    );
    assert_eq!(kinds_and_lines(&d), [(PartKind::Html, 7)]);
}

#[test]
fn encoded_words_in_address_headers_are_decoded() {
    let d = draft(
        "From: =?UTF-8?Q?Caf=C3=A9_De_Linde?= <info@example.nl>\n\
         Subject: =?ISO-8859-1?B?Q2Fm6Q==?= {{ x }}\n\nTekst\n",
    );
    assert_eq!(d.headers[0].value, "Café De Linde <info@example.nl>");
    assert_eq!(d.subject.as_deref(), Some("Café {{ x }}"));
}

#[test]
fn byte_order_mark_and_mbox_envelope_are_skipped() {
    let d = draft(
        "\u{feff}From - Mon Mar  1 09:00:00 2027\nFrom: a@example.nl\nSubject: Hoi\n\nTekst\n",
    );
    assert_eq!(d.headers.len(), 2);
    assert_eq!(d.header("From").map(|h| h.line), Some(2));
    assert_eq!(kinds_and_lines(&d), [(PartKind::Plain, 5)]);
}

#[test]
fn eml_lines_of_quoted_printable_text_skip_soft_breaks() {
    let d = load("thunderbird_alternative.eml");
    let html = &d.parts[1].text;
    let line_in_part = html
        .lines()
        .position(|l| l.contains("{{ unsubscribe_url }}"))
        .expect("link") as u64
        + 1;
    // Decoded line 13 of the HTML: one soft break above it (line 36)
    // and one inside it, so it starts on file line 46 (the link itself
    // is on 47, the continuation).
    assert_eq!(line_in_part, 13);
    assert_eq!(d.eml_line(1, line_in_part), 46);
    assert_eq!(d.eml_line(1, line_in_part + 1), 48);
    assert_eq!(d.eml_line(1, 1), 33);
    // The text part: one soft break, on line 20.
    assert_eq!(d.eml_line(0, 3), 20);
    assert_eq!(d.eml_line(0, 4), 22);
}

#[test]
fn eml_lines_of_encoded_line_feeds_and_base64() {
    let d = draft("Subject: x\nContent-Transfer-Encoding: quoted-printable\n\neen=0Atwee\ndrie\n");
    assert_eq!(d.parts[0].text, "een\ntwee\ndrie\n");
    assert_eq!(
        [d.eml_line(0, 1), d.eml_line(0, 2), d.eml_line(0, 3)],
        [4, 4, 5]
    );
    // base64: the body's first line, whatever the text line.
    let d = load("apple_latin1_base64.eml");
    assert_eq!(d.eml_line(1, 5), 29);
    // 8bit: one to one.
    assert_eq!(d.eml_line(0, 7), 22);
}

#[test]
fn missing_file_says_what_to_do() {
    let e = Draft::load(&fixture("does-not-exist.eml")).expect_err("missing");
    assert_eq!(e.line, None);
    assert!(e.message.contains("does not exist"), "{e}");
    assert!(e.to_string().contains("does-not-exist.eml"), "{e}");
}

#[test]
fn empty_file_is_an_error() {
    let e = Draft::load(&fixture("empty.eml")).expect_err("empty");
    assert!(e.message.contains("the draft is empty"), "{e}");
}

#[test]
fn png_is_not_a_message() {
    let e = Draft::load(&fixture("logo.png")).expect_err("png");
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("not an e-mail message"), "{e}");
    assert!(e.message.contains("PNG image"), "{e}");
}

#[test]
fn csv_is_not_a_message() {
    let e = Draft::load(&fixture("recipients.csv")).expect_err("csv");
    assert_eq!(e.line, Some(1));
    assert!(e.message.contains("CSV file"), "{e}");
}

#[test]
fn html_file_without_headers_is_not_a_message() {
    let e = parse_error(b"<html><body><p>Hallo</p></body></html>\n");
    assert!(e.message.contains("HTML file"), "{e}");
}

#[test]
fn message_with_only_a_pdf_has_no_body() {
    let e = Draft::load(&fixture("pdf_only.eml")).expect_err("no body");
    assert!(e.message.contains("the draft has no body"), "{e}");
    assert!(e.message.contains("application/pdf"), "{e}");
}

#[test]
fn missing_blank_line_names_the_line() {
    let e = Draft::load(&fixture("missing_blank_line.eml")).expect_err("no blank line");
    assert_eq!(e.line, Some(3));
    assert!(
        e.message
            .contains("empty line between the headers and the body"),
        "{e}"
    );
}

#[test]
fn headers_only_has_no_body() {
    let e = parse_error(b"From: a@example.nl\nSubject: Hoi\n");
    assert!(e.message.contains("no body"), "{e}");
}

#[test]
fn blank_body_is_an_error() {
    let e = parse_error(b"From: a@example.nl\nSubject: Hoi\n\n  \n\n");
    assert!(e.message.contains("body is empty"), "{e}");
    assert_eq!(e.line, Some(4));
}

#[test]
fn text_declared_base64_that_is_no_base64_is_reported_at_its_line() {
    let e = parse_error(
        b"Subject: x\nContent-Type: multipart/alternative; boundary=\"b\"\n\n--b\n\
          Content-Type: text/html\nContent-Transfer-Encoding: base64\n\n<p>hi!!</p>\n--b--\n",
    );
    assert_eq!(e.line, Some(8));
    assert!(
        e.message
            .contains("text/html body is declared as base64 but is not base64"),
        "{e}"
    );
}

#[test]
fn stray_equals_signs_in_quoted_printable_stay_literals() {
    // `==` made mail-parser give up on the part (exit 2 before).
    let d = draft(
        "Subject: x\nContent-Type: text/html; charset=utf-8\n\
         Content-Transfer-Encoding: quoted-printable\n\n<p>Caf=C3=A9: korting ==> 20%</p>\n\
         <p><a href=3D\"{{ unsubscribe_url }}\">Afmelden</a></p>\n",
    );
    assert_eq!(d.parts.len(), 1);
    assert_eq!(d.parts[0].kind, PartKind::Html);
    assert!(
        d.parts[0].text.contains("Café: korting ==> 20%"),
        "{}",
        d.parts[0].text
    );
    let damage = d.parts[0].damaged.as_ref().expect("damage noted");
    assert_eq!(damage.encoding, "quoted-printable");
    assert_eq!(damage.line, 5);
    assert!(d.attachments.is_empty(), "not demoted to an attachment");
}

#[test]
fn a_cut_base64_line_and_a_stray_equals_sign_are_read_as_clients_read_them() {
    let d = load("apple_damaged_encoding.eml");
    assert_eq!(
        kinds_and_lines(&d),
        [(PartKind::Plain, 17), (PartKind::Html, 33)]
    );
    assert!(
        d.parts[0]
            .text
            .contains("25% korting = op tuinmeubelen en parasols.")
    );
    assert_eq!(d.parts[0].damaged.as_ref().map(|x| x.line), Some(19));
    // The cut line loses a few characters; the lines after it decode.
    let html = &d.parts[1].text;
    assert!(
        html.contains("<a href=\"https://delinde.example/nieuwsbrief/afmelden\">Afmelden</a>"),
        "{html}"
    );
    assert_eq!(d.parts[1].damaged.as_ref().map(|x| x.line), Some(35));
    // Intact encodings are not noted.
    assert!(
        load("thunderbird_alternative.eml")
            .parts
            .iter()
            .all(|p| p.damaged.is_none())
    );
    assert!(
        load("apple_latin1_base64.eml")
            .parts
            .iter()
            .all(|p| p.damaged.is_none())
    );
}

#[test]
fn truncated_files_never_panic() {
    for name in [
        "thunderbird_alternative.eml",
        "apple_latin1_base64.eml",
        "mixed_csv_attachment.eml",
        "related_inline_image.eml",
    ] {
        let raw = std::fs::read(fixture(name)).expect("fixture");
        let mut parsed = 0;
        for len in 0..=raw.len() {
            if Draft::parse(Path::new(name), raw[..len].to_vec()).is_ok() {
                parsed += 1;
            }
        }
        // The full file, at least, parses.
        assert!(parsed > 0, "{name}");
    }
}

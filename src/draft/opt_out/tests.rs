use super::super::test_support::load;
use super::href::swallowed_markup;
use super::*;

#[track_caller]
fn text_yes(text: &str) {
    assert!(text_has_opt_out(text), "should be an opt-out: {text:?}");
}

#[track_caller]
fn text_no(text: &str) {
    assert!(
        !text_has_opt_out(text),
        "should not be an opt-out: {text:?}"
    );
}

#[track_caller]
fn html_yes(html: &str) {
    assert!(html_has_opt_out(html), "should be an opt-out: {html:?}");
}

#[track_caller]
fn html_no(html: &str) {
    assert!(
        !html_has_opt_out(html),
        "should not be an opt-out: {html:?}"
    );
}

#[test]
fn dutch_text_instructions() {
    text_yes("Wilt u geen nieuwsbrief meer ontvangen? Meld u af via https://shop.example/nb");
    text_yes("Geen mails meer? Meld je hier eenvoudig af: https://shop.example/a");
    text_yes("Reply with 'afmelden' to stop.");
    text_yes("Uitschrijven kan altijd via https://shop.example/u of via info@shop.example.");
    text_yes("Klik hier om je af te melden: https://shop.example/x");
    text_yes("Wil je deze mail niet meer ontvangen, meld je dan af bij info@shop.example");
}

#[test]
fn english_german_french_text_instructions() {
    text_yes("To unsubscribe, reply to this e-mail with STOP.");
    text_yes("Opt out: https://shop.example/o");
    text_yes("Manage your email preferences at https://shop.example/p");
    text_yes("Keine E-Mails mehr erhalten? Melden Sie sich hier ab: https://shop.example/x");
    text_yes("Newsletter abbestellen: https://shop.example/x");
    text_yes("Se désinscrire : https://boutique.example/x");
    text_yes("Pour vous désabonner, répondez STOP à ce message.");
}

#[test]
fn unsubscribe_url_in_any_spelling() {
    text_yes("{{ unsubscribe_url }}");
    text_yes("Klik: {{unsubscribe_url|safe}}");
    text_yes("{{- unsubscribe_url -}}");
    assert!(mentions_unsubscribe_url("<{{ unsubscribe_url|e }}>"));
    assert!(!mentions_unsubscribe_url("{{ unsubscribe_url_old }}"));
    assert!(!mentions_unsubscribe_url("{{ shop_url }} unsubscribe_url"));
}

#[test]
fn text_without_opt_out() {
    text_no("Bedankt voor uw bestelling! Tot ziens in de winkel.");
    // Subscribing is not unsubscribing.
    text_no("Meld je aan voor onze workshop via https://shop.example/workshop");
    text_no("Aanmelden kan tot vrijdag.");
}

#[test]
fn denied_opt_out_is_no_instruction() {
    text_no("We never unsubscribe you without asking.");
    text_no("U kunt zich niet afmelden.");
    text_no("Vous ne pouvez pas vous désinscrire.");
    text_no("You can't opt out of service messages.");
    // A negation elsewhere in the sentence is the usual lead-in.
    text_yes("If you do not want these e-mails go to https://shop.example/u to unsubscribe");
    text_yes("Sie möchten keinen Newsletter mehr? Hier abmelden: https://shop.example/a");
}

#[test]
fn wording_without_a_mechanism_is_no_opt_out_in_text() {
    // The link was lost when the text part was made: nothing to act on.
    text_no("Geen mails meer? Meld je hier eenvoudig af.");
    text_no("Uitschrijven kan altijd via onze website.");
    text_no("Pour vous désabonner, cliquez ici.");
    text_no("Unsubscribe | Privacy policy\n\nShop: https://shop.example/");
    // The URL on its own after an instruction that ends the paragraph.
    text_yes("To stop receiving these emails, use the link below\n\nhttps://s.example/x");
    text_yes("Para darse de baja visite:\n\nhttps://tienda.example/x");
}

#[test]
fn short_link_text_counts_when_its_sentence_says_what_it_does() {
    html_yes(
        r#"<p>Si ya no deseas recibir estos correos, haz clic <a href="https://t.example/b">aquí</a>.</p>"#,
    );
    html_yes(
        r#"<p>Per non ricevere più la newsletter clicca <a href="https://n.example/c">qui</a></p>"#,
    );
    html_yes(r#"<p>Keine Mails mehr?</p><p><a href="https://s.example/a">Hier klicken</a></p>"#);
    html_yes(
        r#"<td>To unsubscribe, click below:</td></tr><tr><td><a href="https://s.example/u">Link</a></td>"#,
    );
    // "Here" in a sentence that does not say opt-out.
    html_no(
        r#"<p>Our summer sale starts now, click <a href="https://s.example/sale">here</a>.</p>"#,
    );
    // A link next to the wording that is not "click here".
    html_no(
        r#"<p>You can unsubscribe at any time. <a href="https://s.example/privacy">Privacy policy</a></p>"#,
    );
}

#[test]
fn opt_out_wording_whose_only_link_is_dead_is_no_opt_out() {
    html_no(
        r##"<p>If you no longer wish to receive these emails, <a href="#">click here</a>.</p>"##,
    );
    html_no(r##"<p><a href="#">Unsubscribe</a> | www.shop.example</p>"##);
    html_no(
        r#"<p>Si no quieres recibir más correos <a href="javascript:void(0)">haz clic aquí</a></p>"#,
    );
}

#[test]
fn quoted_replies_and_forwarded_mail_are_not_the_senders_opt_out() {
    text_no(
        "Sounds good!\n\nOn Mon, 1 Mar 2027, Shop wrote:\n> To unsubscribe visit https://shop.example/u\n",
    );
    text_no(
        "FYI\n\n---------- Forwarded message ---------\nFrom: Shop <n@shop.example>\n\
         Date: Mon\n\nTo unsubscribe visit https://shop.example/u\n",
    );
    text_no(
        "Thanks\n\n________________________________\nFrom: Shop\nSent: Monday\n\
         To: me\n\nUnsubscribe: https://shop.example/u\n",
    );
    // A mailing list's footer after the quote is the list's own.
    text_yes(
        "Thanks\n\n-----Original Message-----\nFrom: a\nSent: b\n\nold text\n\
         _______________________________________________\ndev mailing list\n\
         https://lists.example.org/mailman/listinfo/dev\n",
    );
    html_no(
        r#"<p>Sounds good!</p><blockquote type="cite"><p>If you no longer wish to receive, <a href="https://shop.example/u">click here</a></p></blockquote>"#,
    );
    html_no(
        r#"<p>FYI</p><div class="gmail_quote"><a href="https://shop.example/unsubscribe">Unsubscribe</a></div>"#,
    );
    html_no(
        r#"<p>Thanks</p><div id="divRplyFwdMsg"><b>From:</b> Shop</div><div><a href="https://shop.example/unsubscribe">Unsubscribe</a></div>"#,
    );
}

#[test]
fn code_and_patches_are_no_opt_out() {
    text_no(
        "Fix the leak.\n\ndiff --git a/src/bus.c b/src/bus.c\n--- a/src/bus.c\n+++ b/src/bus.c\n\
         @@ -1,3 +1,3 @@\n-  unsubscribe(bus, https://x.example/);\n+  unsubscribe_all(bus);\n",
    );
    text_no("The handler returns err_unsubscribe_event; see https://bugs.example/42");
    text_no("Call client.unsubscribe(topic) after https://docs.example/api is read.");
    html_no(
        r#"<p>Use <code>unsubscribe()</code> as in <a href="https://docs.example/">the docs</a>.</p>"#,
    );
}

#[test]
fn mailing_list_footers() {
    text_yes(
        "_______________________________________________\nusers mailing list\nusers@lists.example.org\nhttps://lists.example.org/mailman/listinfo/users\n",
    );
    text_yes("To unsubscribe send an email to users-leave@lists.example.org\n");
    text_yes("Send a blank message to leave-123-456@lists.example.com\n");
    text_yes(
        "To unsubscribe from this group and stop receiving emails from it, send an email to dev+unsubscribe@googlegroups.com.",
    );
    html_yes(r#"<p><a href="https://groups.io/g/dev/leave/12/abc">Unsubscribe</a></p>"#);
    html_yes(
        r#"<p>(un)subscription information: <a href="https://lists.example.org/options/dev">options</a></p>"#,
    );
}

#[test]
fn html_links() {
    html_yes(r#"<p>Geen mails meer? <a href="{{ unsubscribe_url }}">Klik hier</a></p>"#);
    html_yes(r#"<a href="{{unsubscribe_url|e}}">here</a>"#);
    html_yes(r#"<a href="https://shop.example/nieuwsbrief/afmelden?e=1">Klik</a>"#);
    html_yes(r#"<a href="https://shop.example/n">Newsletter abmelden</a>"#);
    html_yes(r#"<a href="https://boutique.example/p">Se d&eacute;sinscrire</a>"#);
    html_yes(r#"<a href="https://shop.example/p">Manage email preferences</a>"#);
    html_yes(r#"<a href="mailto:afmelden@shop.example">mail ons</a>"#);
    html_yes(r#"<a href="mailto:info@shop.example?subject=Unsubscribe">e-mail</a>"#);
    html_yes(r#"<a href="https://shop.example/u%2Dx/d%C3%A9sinscription">ici</a>"#);
    html_yes(r#"<a href="https://shop.example/p"><img src="x.png" alt="Unsubscribe"></a>"#);
}

#[test]
fn html_instruction_outside_a_link() {
    html_yes("<p>Afmelden? Stuur een e-mail naar info@shop.example</p>");
    html_yes("<p>Afmelden: {{ unsubscribe_url }}</p>");
}

#[test]
fn a_link_whose_quote_is_missing_is_no_opt_out() {
    // The href runs on to the next quote, swallowing the link text and tags.
    html_no(
        r#"<p><a href="{{ unsubscribe_url }}>Afmelden</a> of bezoek <a href="https://shop.example/">de winkel</a></p>"#,
    );
    // Unterminated to the end: the parser drops the tag.
    html_no(r#"<p>Geen mail meer? <a href="{{ unsubscribe_url }}>Afmelden</a></p>"#);
    // Comparisons inside template expressions are not markup.
    html_yes(r#"<a href="{% if n > 1 %}{{ unsubscribe_url }}{% endif %}">Afmelden</a>"#);
    assert!(swallowed_markup(
        "{{ unsubscribe_url }}>Afmelden</a> of <a href="
    ));
    assert!(!swallowed_markup(
        "https://shop.example/afmelden?e={{ email | urlencode }}"
    ));
    assert!(!swallowed_markup("{{ broken"));
}

#[test]
fn html_without_opt_out() {
    html_no(r#"<p>Bezoek <a href="https://shop.example/">onze winkel</a>.</p>"#);
    // Only in a comment, a script, a style sheet or the head.
    html_no(r#"<p>Hallo</p><!-- <a href="{{ unsubscribe_url }}">Afmelden</a> -->"#);
    html_no(r#"<script>var a = "unsubscribe";</script><p>Hallo</p>"#);
    html_no(r#"<style>.unsubscribe { color: red }</style><p>Hallo</p>"#);
    html_no("<html><head><title>Afmelden</title></head><body><p>Hallo</p></body></html>");
    // A link that goes nowhere is no working opt-out.
    html_no(r##"<p><a href="#">Afmelden</a></p>"##);
    html_no(r#"<p><a href="">Unsubscribe</a></p>"#);
    html_no(r#"<p><a href="javascript:void(0)">Unsubscribe</a></p>"#);
    // Another program's merge tag, or a relative path: nowhere to go
    // when mailgate sends it.
    html_no(r#"<p><a href="*|UNSUB|*">Unsubscribe from this list</a></p>"#);
    html_no(r#"<p><a href="%unsubscribe_url%">Unsubscribe</a></p>"#);
    html_no(r#"<p><a href="unsubscribe.html">Unsubscribe</a></p>"#);
}

#[test]
fn visible_text_of_html() {
    let text = visible_text(
        "<html><head><title>T</title><style>p{}</style></head><body>\
         <p><strong>Jansen</strong>&nbsp;&amp;&nbsp;Zn B.V.<br>Dorpsstraat&nbsp;1</p>\
         <!-- verborgen --><p><a href=\"x\">link</a></p></body></html>",
    );
    let words: Vec<&str> = text.split_whitespace().collect();
    assert_eq!(
        words,
        ["Jansen", "&", "Zn", "B.V.", "Dorpsstraat", "1", "link"]
    );
}

#[test]
fn opt_out_links_carry_the_style_chain() {
    let html = "<html><body>\n<div style=\"display:none\"><p>\n<span style=\"color:#fff\">\
                <a style=\"font-size:0\" href=\"{{ unsubscribe_url }}\">Afmelden</a></span>\
                </p></div>\n<p><a href=\"https://shop.example/\">Shop</a></p>\n\
                <p><font color=\"white\"><a href=\"https://shop.example/unsubscribe?a=1&amp;b=2\" \
                hidden>Unsubscribe</a></font></p>\n</body></html>";
    let links = opt_out_links(html);
    assert_eq!(links.len(), 2, "{links:#?}");

    let first = &links[0];
    assert_eq!(first.href, "{{ unsubscribe_url }}");
    assert_eq!(first.text, "Afmelden");
    assert_eq!(first.line, Some(3));
    let tags: Vec<&str> = first.chain.iter().map(|e| e.tag.as_str()).collect();
    assert_eq!(tags, ["a", "span", "p", "div", "body", "html"]);
    assert_eq!(
        first.styles().collect::<Vec<_>>(),
        ["font-size:0", "color:#fff", "display:none"]
    );

    let second = &links[1];
    assert_eq!(second.href, "https://shop.example/unsubscribe?a=1&b=2");
    assert_eq!(second.line, Some(5));
    assert!(second.chain[0].hidden);
    assert_eq!(second.chain[1].color.as_deref(), Some("white"));
}

#[test]
fn drafts_from_mail_clients() {
    let d = load("thunderbird_alternative.eml");
    assert!(d.parts.iter().all(has_opt_out));
    let d = load("apple_latin1_base64.eml");
    assert!(has_opt_out(&d.parts[0]), "reply with 'afmelden'");
    assert!(has_opt_out(&d.parts[1]), "mailto with subject Afmelden");
    let d = load("html_only.eml");
    assert!(has_opt_out(&d.parts[0]));
}

#[test]
fn outlook_opt_out_only_in_html_leaves_the_text_part_lacking() {
    let d = load("outlook_windows1252.eml");
    assert_eq!(d.parts[0].kind, PartKind::Plain);
    assert!(!has_opt_out(&d.parts[0]), "the text part has no opt-out");
    assert_eq!(d.parts[1].kind, PartKind::Html);
    assert!(
        has_opt_out(&d.parts[1]),
        "Klik hier → {{{{ unsubscribe_url }}}}"
    );
    let links = opt_out_links(&d.parts[1].text);
    assert_eq!(links.len(), 1);
    assert_eq!(links[0].text, "Klik hier");
    assert_eq!(
        links[0].chain[1].style.as_deref(),
        Some("font-size:8.0pt;color:gray")
    );
}

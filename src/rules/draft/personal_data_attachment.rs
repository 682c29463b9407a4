//! `personal-data-attachment`: an attachment is a spreadsheet, CSV or vCard, or holds e-mail addresses.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::Draft;
use crate::recipients::address::is_deliverable;
use crate::rules::RuleId;

crate::declare_rule! {
    name: "personal-data-attachment",
    scope: draft,
    default: error,
    order: 110,
    summary: "an attachment is a spreadsheet, CSV or vCard, or holds e-mail addresses",
    explain: "personal_data_attachment.md",
}

const PERSONAL_DATA_TYPES: &[&str] = &[
    "text/csv",
    "text/tab-separated-values",
    "text/vcard",
    "text/x-vcard",
    "text/directory",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/csv",
];
const PERSONAL_DATA_EXTENSIONS: &[&str] =
    &["csv", "tsv", "xls", "xlsx", "xlsm", "ods", "vcf", "vcard"];

pub fn check(draft: &Draft, _campaign: &Campaign, file: &str, out: &mut Vec<Finding>) {
    for attachment in &draft.attachments {
        let name = attachment.filename.as_deref().unwrap_or("(unnamed)");
        let extension = name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
        let spreadsheet = PERSONAL_DATA_TYPES.contains(&attachment.content_type.as_str())
            || extension
                .as_deref()
                .is_some_and(|e| PERSONAL_DATA_EXTENSIONS.contains(&e));
        let textual = attachment.content_type.starts_with("text/")
            || matches!(
                attachment.content_type.as_str(),
                "application/json" | "application/xml"
            );
        let address = if textual {
            first_address(&String::from_utf8_lossy(&attachment.data))
        } else {
            None
        };
        let why = if spreadsheet {
            format!(
                "`{name}` ({}) is a spreadsheet, list or contact card",
                attachment.content_type
            )
        } else if let Some(address) = address {
            format!("`{name}` holds e-mail addresses (e.g. {address})")
        } else {
            continue;
        };
        out.push(
            Finding::new(
                RuleId::PersonalDataAttachment,
                format!(
                    "{why}: sent to everyone, it would leak personal data (GDPR art. 32–34); \
                     remove the attachment"
                ),
            )
            .file(file)
            .line(attachment.line)
            .field(name),
        );
    }
}

fn first_address(text: &str) -> Option<String> {
    text.split(|c: char| c.is_whitespace() || ",;<>\"'()[]{}:".contains(c))
        .find(|token| token.contains('@') && is_deliverable(token))
        .map(str::to_owned)
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_in_text() {
        assert_eq!(
            first_address("naam;email\nJan;jan@example.nl\n").as_deref(),
            Some("jan@example.nl")
        );
        assert_eq!(first_address("Bestel nu @ onze winkel"), None);
    }
}

//! Draft rules (SPEC §3): the opt-out, the unsubscribe headers, the sender,
//! the recipients shown, attachments and templates. Each rule is a file of
//! `src/rules/draft/`; a rule file with a `pub fn check` (of the [`Check`]
//! signature) is run by [`check`], in the registry's order.

use crate::campaign::Campaign;
use crate::diagnostic::Finding;
use crate::draft::Draft;
use crate::paths::display;

pub use exposed_recipients::RECIPIENT_HEADERS;
pub use missing_list_unsubscribe::parse_list_unsubscribe;
pub use template_error::template_field;
pub use unknown_merge_field::{unknown_hint, unknown_merge_fields};

/// The check of a draft rule: the draft, the campaign, the draft's file as
/// messages name it, and where its findings go.
pub type Check = fn(&Draft, &Campaign, &str, &mut Vec<Finding>);

// The rule files of this scope (src/rules/draft/) and `CHECKS`, the checks
// among them, found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/draft.rs"));

/// Every draft rule that needs only the draft and the campaign.
pub fn check(draft: &Draft, campaign: &Campaign) -> Vec<Finding> {
    let file = display(&draft.path);
    let mut out = Vec::new();
    for check in CHECKS {
        check(draft, campaign, &file, &mut out);
    }
    out
}

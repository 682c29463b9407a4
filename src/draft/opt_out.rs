//! Finding the opt-out (unsubscribe) possibility in a body part
//! (`missing-opt-out`, `hidden-opt-out`).

use super::BodyPart;

/// True when the part offers a way out: a link whose URL or text says
/// unsubscribe/opt-out/manage preferences (nl, en, de, fr), a link built from
/// `{{ unsubscribe_url }}`, a `mailto:` unsubscribe, or — in a text part — a
/// plain instruction. HTML is read with an HTML parser.
pub fn has_opt_out(part: &BodyPart) -> bool {
    let _ = part;
    todo!()
}

//! Recipient rules (SPEC §3): their declarations and explanations. The
//! judge decides them together (SPEC §2 settles one basis per recipient),
//! so their checks live in [`crate::judge`].

// The rule files of this scope (src/rules/recipient/), found by build.rs.
include!(concat!(env!("OUT_DIR"), "/rules/recipient.rs"));

//! `mailgate send` (SPEC §5): the gate, message rendering, SMTP transport,
//! the journal, and progress.

pub mod message;
pub mod transport;

//! The boot rule: what an attempt without an outcome means depends on
//! whether the machine has rebooted since it was made (see the module docs
//! of [`journal`](super)).

use super::state::{JournalState, Status};

impl JournalState {
    /// Decides what each attempt without an outcome means, now that the
    /// whole journal is read, on the boot `this_boot` of the machine (None:
    /// unknown, which counts as a reboot).
    ///
    /// Outcome and `data-end` records are written (not synced) as they
    /// happen, so after the *process* died they are in the file: an attempt
    /// made on this same boot that has no `data-end` never had its DATA
    /// ended, and the server cannot have accepted it. After a reboot or a
    /// power cut, writes that were not yet synced may be lost, so any
    /// attempt without an outcome may have gone out.
    pub(super) fn settle(&mut self, this_boot: Option<&str>) {
        for history in self.recipients.values_mut() {
            if history.status != Status::Unknown {
                continue;
            }
            if let Some(pending) = &history.pending
                && !pending.data_end
                && this_boot.is_some()
                && pending.boot.as_deref() == this_boot
            {
                history.status = Status::Unfinished;
            }
        }
    }
}

/// This boot of the machine: Linux's `/proc/sys/kernel/random/boot_id`,
/// which changes at every boot. `None` elsewhere, or when it cannot be
/// read; journals then treat every attempt without an outcome as unknown,
/// as after a reboot.
pub fn machine_boot_id() -> Option<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = text.trim();
    (!id.is_empty()).then(|| id.to_owned())
}

//! Where readers put what they find: entries are assembled in place in
//! the sink's own buffer and committed when complete, so handing an entry
//! to the aggregating thread copies nothing.

use super::entry::LogEntry;
use super::warnings::{Location, WarningReason};

pub trait EntrySink {
    /// The entry being assembled. Readers clear and fill it (continuation
    /// lines may extend it later), then call [`EntrySink::commit`].
    fn slot(&mut self) -> &mut LogEntry;
    /// The entry in the slot is complete (with its DETAIL / STATEMENT).
    fn commit(&mut self);
    /// A statement from a SQL file.
    fn statement(&mut self, sql: &str, location: Location);
    fn warn(&mut self, reason: WarningReason, location: Location, detail: Option<String>);
    /// A secondary line with no entry to belong to.
    fn other_entry(&mut self);
}

//! Where readers put what they find. The collector is one sink; the
//! pipeline's batch sender is another, so reading and aggregation can run on
//! two cores.

use super::collector::Collector;
use super::entry::{LogEntry, interpret};
use super::warnings::{Location, WarningReason};

pub trait EntrySink {
    /// A complete log entry (with its DETAIL / STATEMENT).
    fn entry(&mut self, entry: &LogEntry);
    /// A statement from a SQL file.
    fn statement(&mut self, sql: &str, location: Location);
    fn warn(&mut self, reason: WarningReason, location: Location, detail: Option<String>);
    /// A secondary line with no entry to belong to.
    fn other_entry(&mut self);
}

impl EntrySink for Collector {
    fn entry(&mut self, entry: &LogEntry) {
        interpret(entry, self);
    }

    fn statement(&mut self, sql: &str, location: Location) {
        self.sql_statement(sql, location);
    }

    fn warn(&mut self, reason: WarningReason, location: Location, detail: Option<String>) {
        Collector::warn(self, reason, location, detail);
    }

    fn other_entry(&mut self) {
        Collector::other_entry(self);
    }
}

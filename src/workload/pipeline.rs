//! Two-stage ingestion: a reader thread turns bytes into log entries
//! (decompression, line splitting, prefix matching) while the calling thread
//! interprets and aggregates them. Entries travel in batches whose buffers
//! are sent back and reused, so the steady state allocates nothing.

use super::collector::Collector;
use super::entry::{LogEntry, interpret, prenormalize};
use super::normalize::Normalizer;
use super::sink::EntrySink;
use super::warnings::{Location, WarningReason};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};

/// Entries per batch: large enough to amortise the hand-over, small enough
/// to keep both threads busy.
const BATCH_ENTRIES: usize = 1024;
/// Batches in flight between the two threads.
const IN_FLIGHT: usize = 4;
/// Entries the reader normalizes between two attempts to hand a batch over.
const HELP_STEP: usize = 64;

/// Anything that is not an entry, kept in order with the entries.
enum SideEvent {
    Warn(WarningReason, Location, Option<String>),
    Statement(String, Location),
    Other,
}

#[derive(Default)]
pub struct Batch {
    entries: Vec<LogEntry>,
    used: usize,
    /// Side events with the number of entries that came before them.
    side: Vec<(usize, SideEvent)>,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.used == 0 && self.side.is_empty()
    }

    /// Replays the batch, in its original order, into the collector.
    fn apply(&mut self, collector: &mut Collector) {
        let mut side = std::mem::take(&mut self.side).into_iter().peekable();
        for i in 0..=self.used {
            while let Some((_, event)) = side.next_if(|(at, _)| *at == i) {
                match event {
                    SideEvent::Warn(reason, location, detail) => {
                        collector.warn(reason, location, detail)
                    }
                    SideEvent::Statement(sql, location) => collector.sql_statement(&sql, location),
                    SideEvent::Other => collector.other_entry(),
                }
            }
            if i < self.used {
                interpret(&self.entries[i], collector);
            }
        }
        self.used = 0;
    }
}

/// The reader thread's sink: fills batches and hands them over.
pub struct BatchSender {
    current: Batch,
    full: SyncSender<Batch>,
    empty: Receiver<Batch>,
    /// For normalizing ahead while the aggregating thread is behind.
    normalizer: Normalizer,
}

impl BatchSender {
    fn flush(&mut self) {
        if self.current.is_empty() {
            return;
        }
        let next = self.empty.try_recv().unwrap_or_default();
        let mut batch = std::mem::replace(&mut self.current, next);
        // While the aggregating thread is behind (the queue is full), do part
        // of its work: normalize this batch's statements a few at a time,
        // retrying the hand-over in between. This balances the two cores
        // whichever stage is the slower one for this log.
        let mut done = 0;
        loop {
            match self.full.try_send(batch) {
                Ok(()) => return,
                // The consumer is gone: the run is failing anyway.
                Err(TrySendError::Disconnected(_)) => return,
                Err(TrySendError::Full(back)) => {
                    batch = back;
                    if done >= batch.used {
                        let _ = self.full.send(batch);
                        return;
                    }
                    let end = (done + HELP_STEP).min(batch.used);
                    for entry in &mut batch.entries[done..end] {
                        prenormalize(entry, &mut self.normalizer);
                    }
                    done = end;
                }
            }
        }
    }

    /// Sends what is left.
    pub fn finish(mut self) {
        self.flush();
    }
}

impl EntrySink for BatchSender {
    fn slot(&mut self) -> &mut LogEntry {
        let b = &mut self.current;
        if b.used == b.entries.len() {
            b.entries.push(LogEntry::default());
        }
        &mut b.entries[b.used]
    }

    fn commit(&mut self) {
        self.current.used += 1;
        if self.current.used == BATCH_ENTRIES {
            self.flush();
        }
    }

    fn statement(&mut self, sql: &str, location: Location) {
        let at = self.current.used;
        self.current
            .side
            .push((at, SideEvent::Statement(sql.to_string(), location)));
        if self.current.side.len() >= BATCH_ENTRIES {
            self.flush();
        }
    }

    fn warn(&mut self, reason: WarningReason, location: Location, detail: Option<String>) {
        let at = self.current.used;
        self.current
            .side
            .push((at, SideEvent::Warn(reason, location, detail)));
    }

    fn other_entry(&mut self) {
        let at = self.current.used;
        self.current.side.push((at, SideEvent::Other));
    }
}

/// Runs `read` on its own thread with a batch sender, while this thread
/// feeds everything it produces into `collector`. Returns what `read`
/// returned.
pub fn run_pipelined<T: Send>(
    collector: &mut Collector,
    read: impl FnOnce(&mut BatchSender) -> T + Send,
) -> T {
    let (full_tx, full_rx) = sync_channel::<Batch>(IN_FLIGHT);
    let (empty_tx, empty_rx) = sync_channel::<Batch>(IN_FLIGHT + 2);
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("pgadvisor-read".into())
            .spawn_scoped(scope, move || {
                let mut sender = BatchSender {
                    current: Batch::default(),
                    full: full_tx,
                    empty: empty_rx,
                    normalizer: Normalizer::new(),
                };
                let result = read(&mut sender);
                sender.finish();
                result
            })
            .expect("the reader thread starts");
        for mut batch in full_rx {
            batch.apply(collector);
            let _ = empty_tx.try_send(batch);
        }
        match reader.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::collector::CollectOptions;
    use crate::workload::source::LineReader;
    use crate::workload::stderr::{LineMode, read_stderr};

    /// Keeps every entry, for replaying them two ways.
    #[derive(Default)]
    struct VecSink {
        entries: Vec<LogEntry>,
        open: LogEntry,
    }

    impl EntrySink for VecSink {
        fn slot(&mut self) -> &mut LogEntry {
            &mut self.open
        }
        fn commit(&mut self) {
            self.entries.push(std::mem::take(&mut self.open));
        }
        fn statement(&mut self, _: &str, _: Location) {}
        fn warn(&mut self, _: WarningReason, _: Location, _: Option<String>) {}
        fn other_entry(&mut self) {}
    }

    fn summary(collector: Collector) -> Vec<(String, u64, u64, u64, u64)> {
        let mut v: Vec<_> = collector
            .finish()
            .fingerprints
            .iter()
            .map(|f| {
                (
                    f.id.to_string(),
                    f.calls,
                    f.errors,
                    f.total_us,
                    f.parse_bind_us,
                )
            })
            .collect();
        v.sort();
        v
    }

    #[test]
    fn entries_normalized_ahead_give_the_same_workload() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/logs/stderr-debian.log"
        );
        let file = std::fs::File::open(path).unwrap();
        let mode = crate::workload::detect::detect_prefix(&std::fs::read(path).unwrap());
        assert!(matches!(mode, LineMode::Prefix(_)));
        let mut sink = VecSink::default();
        read_stderr(&mut LineReader::new(file), &mode, 0, &mut sink).unwrap();
        assert!(sink.entries.len() > 1000);

        let mut plain = Collector::new(CollectOptions::default());
        for e in &sink.entries {
            interpret(e, &mut plain);
        }
        let mut ahead = Collector::new(CollectOptions::default());
        let mut normalizer = Normalizer::new();
        let mut prenormalized = 0;
        for e in &mut sink.entries {
            prenormalize(e, &mut normalizer);
            if e.prenormalized().is_some() {
                prenormalized += 1;
            }
            interpret(e, &mut ahead);
        }
        assert!(prenormalized > 1000, "most entries carry a statement");
        assert_eq!(summary(plain), summary(ahead));
    }
}

//! Aggregation: every execution the readers find ends up here, keyed by its
//! normalized text, and becomes per-fingerprint statistics.

use super::entry::PreKey;
use super::fingerprint::{FingerprintId, StatementKind};
use super::model::{Fingerprint, Sample, TraceEvent, Workload};
use super::normalize::{Normalizer, render};
use super::params::{parse_execute_arguments, parse_parameters_detail, prepared_body};
use super::parse_check::check_parse;
use super::timestamp::LogTime;
use super::warnings::{Location, WarningReason};
use rustc_hash::FxHashMap;

/// Statements longer than this are counted but not kept as samples (a
/// sample exists to be EXPLAINed, and nobody explains a 10 MB statement).
const MAX_SAMPLE_BYTES: usize = 1 << 20;
/// Raw statement texts remembered byte for byte, so repeated texts skip
/// normalization; cleared when it grows past this many bytes of text.
const RAW_CACHE_BYTES: usize = 16 << 20;

/// What the caller wants kept and counted.
#[derive(Clone, Debug)]
pub struct CollectOptions {
    /// Samples kept per fingerprint (the slowest ones).
    pub samples: usize,
    /// Only entries from these databases (empty: all).
    pub databases: Vec<String>,
    /// Only entries from these users (empty: all).
    pub users: Vec<String>,
    /// Keep every execution in order as a [`TraceEvent`] (16 bytes each).
    pub trace: bool,
}

impl Default for CollectOptions {
    fn default() -> Self {
        Self {
            samples: 3,
            databases: Vec::new(),
            users: Vec::new(),
            trace: false,
        }
    }
}

/// Where an entry came from and who ran it.
#[derive(Clone, Debug)]
pub struct EntryMeta<'a> {
    pub location: Location,
    /// The entry's timestamp as logged (empty when the log has none).
    pub time: &'a str,
    pub pid: Option<u32>,
    pub user: &'a str,
    pub database: &'a str,
}

/// A statement logged before it ran (log_statement), waiting for its
/// `duration:` line.
struct Pending {
    sql: String,
    detail: String,
    location: Location,
    time: String,
    user: String,
    database: String,
}

pub struct Collector {
    options: CollectOptions,
    normalizer: Normalizer,
    index: FxHashMap<Box<[u8]>, u32>,
    /// Raw text → fingerprint, for texts without constants.
    raw_index: FxHashMap<Box<[u8]>, u32>,
    raw_bytes: usize,
    /// The last timestamp text parsed, and its value (entries of one
    /// millisecond share it, so most parses are skipped).
    last_time: (String, Option<LogTime>),
    workload: Workload,
    pending: FxHashMap<u32, Pending>,
}

impl Collector {
    pub fn new(options: CollectOptions) -> Self {
        Self {
            options,
            normalizer: Normalizer::new(),
            index: FxHashMap::default(),
            raw_index: FxHashMap::default(),
            raw_bytes: 0,
            last_time: (String::new(), None),
            workload: Workload::default(),
            pending: FxHashMap::default(),
        }
    }

    pub fn workload_mut(&mut self) -> &mut Workload {
        &mut self.workload
    }

    pub fn warn(&mut self, reason: WarningReason, location: Location, detail: Option<String>) {
        self.workload.warnings.add(reason, location, detail);
    }

    pub fn other_entry(&mut self) {
        self.workload.other_entries += 1;
    }

    pub fn auto_explain_plan(&mut self) {
        self.workload.auto_explain_plans += 1;
    }

    fn passes_filters(&self, meta: &EntryMeta<'_>) -> bool {
        (self.options.databases.is_empty()
            || self.options.databases.iter().any(|d| d == meta.database))
            && (self.options.users.is_empty() || self.options.users.iter().any(|u| u == meta.user))
    }

    /// Like `passes_filters`, counting executions and errors left out.
    fn counts_for_filters(&mut self, meta: &EntryMeta<'_>) -> bool {
        let ok = self.passes_filters(meta);
        if !ok {
            self.workload.filtered_out += 1;
        }
        ok
    }

    /// The fingerprint of `sql`, created on first sight. `pre` is its
    /// normalized key when the reader thread already made it.
    fn fingerprint_of(&mut self, sql: &str, location: &Location, pre: Option<PreKey<'_>>) -> usize {
        let (key, had_constants) = match pre {
            Some(pre) => (pre.key, pre.had_constants),
            None => {
                if let Some(&i) = self.raw_index.get(sql.as_bytes()) {
                    return i as usize;
                }
                self.normalizer.normalize_with_flag(sql.as_bytes())
            }
        };
        let i = match self.index.get(key) {
            Some(&i) => i,
            None => {
                let text = render(key);
                let kind = StatementKind::classify(key);
                let id = FingerprintId::of(&text);
                let i = self.workload.fingerprints.len() as u32;
                self.index.insert(key.into(), i);
                self.workload
                    .fingerprints
                    .push(Fingerprint::new(id, text, kind, location.clone()));
                i
            }
        };
        if !had_constants {
            if self.raw_bytes + sql.len() > RAW_CACHE_BYTES {
                self.raw_index.clear();
                self.raw_bytes = 0;
            }
            self.raw_bytes += sql.len();
            self.raw_index.insert(sql.as_bytes().into(), i);
        }
        i as usize
    }

    fn log_time(&mut self, text: &str) -> Option<LogTime> {
        if text.is_empty() {
            return None;
        }
        if self.last_time.0 != text {
            self.last_time.0.clear();
            self.last_time.0.push_str(text);
            self.last_time.1 = LogTime::parse(text);
        }
        self.last_time.1
    }

    /// A completed execution of `sql`; `detail` is the entry's DETAIL text
    /// (empty when none), parsed only if the execution is kept as a sample.
    pub fn execution(
        &mut self,
        sql: &str,
        duration_us: Option<u64>,
        detail: &str,
        meta: &EntryMeta<'_>,
        pre: Option<PreKey<'_>>,
    ) {
        if !self.counts_for_filters(meta) {
            return;
        }
        // `EXECUTE q(…)` with its PREPARE in the detail: the statement that
        // ran is the prepared query.
        if let Some(prepare) = detail.strip_prefix("prepare: ")
            && let Some(body) = prepared_body(prepare)
            && let Some((_, args)) = parse_execute_arguments(sql)
        {
            let body = body.to_string();
            self.record_execution(&body, duration_us, SampleParams::Values(args), meta, None);
            return;
        }
        let params = if detail.is_empty() {
            SampleParams::None
        } else {
            SampleParams::Detail(detail)
        };
        self.record_execution(sql, duration_us, params, meta, pre);
    }

    fn record_execution(
        &mut self,
        sql: &str,
        duration_us: Option<u64>,
        params: SampleParams<'_>,
        meta: &EntryMeta<'_>,
        pre: Option<PreKey<'_>>,
    ) {
        let i = self.fingerprint_of(sql, &meta.location, pre);
        let time = self.log_time(meta.time);
        let samples_wanted = self.options.samples;
        let fp = &mut self.workload.fingerprints[i];
        fp.calls += 1;
        if let Some(us) = duration_us {
            fp.timed_calls += 1;
            fp.total_us += us;
            fp.min_us = fp.min_us.min(us);
            fp.max_us = fp.max_us.max(us);
            fp.latency.record(us);
        }
        fp.databases.insert(meta.database);
        fp.users.insert(meta.user);
        fp.observe_time(time);
        let kind = fp.kind;
        if self.options.trace {
            record_trace(&mut self.workload, i, sql, &params, meta);
        }
        let fp = &mut self.workload.fingerprints[i];
        let warning = keep_sample(fp, samples_wanted, sql, duration_us, params, meta);
        self.workload.kinds.add(kind, 1);
        self.workload.executions += 1;
        if let Some(location) = warning {
            self.warn(WarningReason::MalformedParameters, location, None);
        }
    }

    /// A statement that ended in an error.
    pub fn failed(&mut self, sql: &str, meta: &EntryMeta<'_>, pre: Option<PreKey<'_>>) {
        if let Some(pid) = meta.pid
            && self.pending.get(&pid).is_some_and(|p| p.sql == sql)
        {
            // Logged by log_statement before it failed: not a completed call.
            self.pending.remove(&pid);
        }
        if !self.counts_for_filters(meta) {
            return;
        }
        let i = self.fingerprint_of(sql, &meta.location, pre);
        let time = self.log_time(meta.time);
        let fp = &mut self.workload.fingerprints[i];
        fp.errors += 1;
        fp.observe_time(time);
        self.workload.errors += 1;
    }

    /// Time spent parsing or binding `sql` (extended protocol); not a call.
    pub fn parse_or_bind(
        &mut self,
        sql: &str,
        duration_us: u64,
        meta: &EntryMeta<'_>,
        pre: Option<PreKey<'_>>,
    ) {
        if !self.passes_filters(meta) {
            return;
        }
        let i = self.fingerprint_of(sql, &meta.location, pre);
        self.workload.fingerprints[i].parse_bind_us += duration_us;
    }

    /// Time spent fetching more rows from an open portal; not a new call.
    pub fn fetch(
        &mut self,
        sql: &str,
        duration_us: u64,
        meta: &EntryMeta<'_>,
        pre: Option<PreKey<'_>>,
    ) {
        if !self.passes_filters(meta) {
            return;
        }
        let i = self.fingerprint_of(sql, &meta.location, pre);
        self.workload.fingerprints[i].fetch_us += duration_us;
    }

    /// A statement logged by log_statement; its duration may follow.
    pub fn logged_statement(&mut self, sql: &str, detail: &str, meta: &EntryMeta<'_>) {
        let pid = meta.pid.unwrap_or(0);
        let pending = Pending {
            sql: sql.to_string(),
            detail: detail.to_string(),
            location: meta.location.clone(),
            time: meta.time.to_string(),
            user: meta.user.to_string(),
            database: meta.database.to_string(),
        };
        if let Some(previous) = self.pending.insert(pid, pending) {
            self.flush_pending(previous, pid, None);
        }
    }

    /// A `duration:` line without a statement: it belongs to the statement
    /// this process logged last.
    pub fn bare_duration(&mut self, duration_us: u64, meta: &EntryMeta<'_>) {
        let pid = meta.pid.unwrap_or(0);
        match self.pending.remove(&pid) {
            Some(pending) => self.flush_pending(pending, pid, Some(duration_us)),
            None => self.warn(
                WarningReason::DurationWithoutStatement,
                meta.location.clone(),
                None,
            ),
        }
    }

    fn flush_pending(&mut self, pending: Pending, pid: u32, duration_us: Option<u64>) {
        let meta = EntryMeta {
            location: pending.location.clone(),
            time: &pending.time,
            pid: Some(pid),
            user: &pending.user,
            database: &pending.database,
        };
        self.execution(&pending.sql, duration_us, &pending.detail, &meta, None);
    }

    /// A statement from a SQL file: one untimed call.
    pub fn sql_statement(&mut self, sql: &str, location: Location) {
        let meta = EntryMeta {
            location,
            time: "",
            pid: None,
            user: "",
            database: "",
        };
        self.record_execution(sql, None, SampleParams::None, &meta, None);
    }

    /// Ends ingestion: statements still waiting for a duration count as
    /// untimed calls, each distinct text is parsed once, and the workload
    /// is returned.
    pub fn finish(mut self) -> Workload {
        let mut pending: Vec<(u32, Pending)> = self.pending.drain().collect();
        pending.sort_by(|a, b| a.1.location.cmp(&b.1.location));
        for (pid, p) in pending {
            self.flush_pending(p, pid, None);
        }
        let mut workload = self.workload;
        check_parse(&mut workload);
        for fp in &workload.fingerprints {
            if let Some(t) = fp.first_seen
                && workload.first_seen.is_none_or(|f| t < f)
            {
                workload.first_seen = Some(t);
            }
            if let Some(t) = fp.last_seen
                && workload.last_seen.is_none_or(|l| t > l)
            {
                workload.last_seen = Some(t);
            }
        }
        workload
    }
}

/// Parameter values of an execution, in the form the log gave them.
enum SampleParams<'a> {
    None,
    /// A `DETAIL: parameters:` text, parsed only when a sample is kept.
    Detail(&'a str),
    /// The arguments of `EXECUTE name(…)`.
    Values(Vec<Option<String>>),
}

/// Appends the execution to the trace. The key hashes the text as logged
/// (literals inline) and its parameter values, so it tells apart exactly
/// the executions that asked different questions.
fn record_trace(
    workload: &mut Workload,
    fingerprint: usize,
    sql: &str,
    params: &SampleParams<'_>,
    meta: &EntryMeta<'_>,
) {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    sql.hash(&mut h);
    match params {
        SampleParams::None => {}
        SampleParams::Detail(d) => d.hash(&mut h),
        SampleParams::Values(v) => v.hash(&mut h),
    }
    let key = h.finish();
    workload.trace.push(TraceEvent {
        fingerprint: fingerprint as u32,
        key,
    });
    if sql.len() <= MAX_SAMPLE_BYTES && !workload.trace_samples.contains_key(&key) {
        let parameters = match params {
            SampleParams::None => Vec::new(),
            SampleParams::Values(v) => v.clone(),
            SampleParams::Detail(d) => parse_parameters_detail(d).unwrap_or_default(),
        };
        workload.trace_samples.insert(
            key,
            Sample {
                statement: sql.to_string(),
                parameters,
                duration_ms: None,
                database: None,
                user: None,
                location: meta.location.clone(),
            },
        );
    }
}

/// Keeps this execution as a sample if it is among the slowest seen (or
/// there is room); returns a location when its parameters were unreadable.
fn keep_sample(
    fp: &mut Fingerprint,
    wanted: usize,
    sql: &str,
    duration_us: Option<u64>,
    params: SampleParams<'_>,
    meta: &EntryMeta<'_>,
) -> Option<Location> {
    if wanted == 0 || sql.len() > MAX_SAMPLE_BYTES {
        return None;
    }
    let slot = if fp.samples.len() < wanted {
        None
    } else {
        let us = duration_us?;
        let (idx, fastest) = fp
            .samples
            .iter()
            .enumerate()
            .min_by_key(|(_, s)| s.duration_ms.map_or(0, |ms| (ms * 1000.0) as u64))?;
        if fastest
            .duration_ms
            .is_some_and(|ms| (ms * 1000.0) as u64 >= us)
        {
            return None;
        }
        Some(idx)
    };
    let mut bad_params = None;
    let parameters = match params {
        SampleParams::None => Vec::new(),
        SampleParams::Values(v) => v,
        SampleParams::Detail(d) => {
            if d.starts_with("parameters: ") || d.starts_with("Parameters: ") {
                parse_parameters_detail(d).unwrap_or_else(|| {
                    bad_params = Some(meta.location.clone());
                    Vec::new()
                })
            } else {
                Vec::new()
            }
        }
    };
    let sample = Sample {
        statement: sql.to_string(),
        parameters,
        duration_ms: duration_us.map(|us| us as f64 / 1000.0),
        database: (!meta.database.is_empty()).then(|| meta.database.to_string()),
        user: (!meta.user.is_empty()).then(|| meta.user.to_string()),
        location: meta.location.clone(),
    };
    match slot {
        Some(i) => fp.samples[i] = sample,
        None => {
            // Exactly the samples wanted: with many fingerprints the default
            // growth (4 slots) was a third of all memory.
            if fp.samples.capacity() == 0 {
                fp.samples.reserve_exact(wanted);
            }
            fp.samples.push(sample)
        }
    }
    bad_params
}

//! `pgadvisor monitor`: read a database's counters every interval and print
//! what they say per second, with its sessions, waits and heaviest
//! statements, until Ctrl-C or `--count` samples.

use crate::cli::{MonitorArgs, MonitorFormat};
use crate::db::monitor::MonitorSession;
use crate::db::{SessionSettings, connect, resolve_from_env};
use crate::monitor::{Snapshot, TOP_STATEMENTS, compute, statement_deltas, texts_needed};
use crate::render::monitor::{write_sample_jsonl, write_sample_table};
use anyhow::Result;
use rustc_hash::FxHashMap;
use std::future::Future;
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use tokio::sync::watch;
use tokio::time::{Instant, MissedTickBehavior, interval_at};

/// Statement texts kept between samples; past this the cache starts over
/// (an application sending ever new statements must not grow it forever).
const MAX_CACHED_TEXTS: usize = 10_000;

// Timing: rates divide by the difference between two readings of the
// server's clock_timestamp(), taken in the same statement as the counters
// (db/sql/monitor_sample.sql), not by a client Instant. The counters and
// that clock are read microseconds apart on the server, whereas a client
// clock would add each sample's network round trip and its jitter, and
// any delay of this process between sending and the server reading, to
// the interval. The cost: the server's wall clock may be stepped (NTP);
// a step backwards gives null rates with a note, not negative ones.
// The client clock only paces the samples.

pub async fn run(args: MonitorArgs) -> Result<ExitCode> {
    let info = resolve_from_env(
        args.connect.database.as_deref(),
        args.connect.connect_timeout,
    )?;
    let target = info.display_url();
    let mut stop = ctrl_c_listener();
    let Some(client) = unless_stopped(&mut stop, connect(&info, &SessionSettings::default())).await
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let Some(session) = unless_stopped(&mut stop, MonitorSession::open(client?, &target)).await
    else {
        return Ok(ExitCode::SUCCESS);
    };
    let session = session?;
    // The first reading is only the baseline: rates need two.
    let Some(baseline) = unless_stopped(&mut stop, session.snapshot()).await else {
        return Ok(ExitCode::SUCCESS);
    };
    let mut previous = baseline?;
    let redraw = args.format == MonitorFormat::Table && std::io::stdout().is_terminal();
    if args.format == MonitorFormat::Table && std::io::stderr().is_terminal() {
        eprintln!(
            "monitoring {target} every {}; the first sample comes after one interval (Ctrl-C stops)",
            humantime::format_duration(args.interval)
        );
    }
    let mut ticker = interval_at(Instant::now() + args.interval, args.interval);
    // A sample slower than the interval delays the next one rather than
    // causing a burst of back-to-back samples.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let mut texts: FxHashMap<i64, String> = FxHashMap::default();
    let mut number = 0u64;
    while args.count.is_none_or(|count| number < count) {
        if unless_stopped(&mut stop, ticker.tick()).await.is_none() {
            break;
        }
        let Some(current) = unless_stopped(&mut stop, session.snapshot()).await else {
            break;
        };
        let current = current?;
        let Some(text_note) = unless_stopped(
            &mut stop,
            read_texts(&session, &previous, &current, &mut texts),
        )
        .await
        else {
            break;
        };
        number += 1;
        let mut sample = compute(&previous, &current, number, &texts);
        sample.notes.extend(text_note);
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match args.format {
            MonitorFormat::Jsonl => write_sample_jsonl(&mut out, &target, &sample)?,
            MonitorFormat::Table => write_sample_table(&mut out, &target, &sample, redraw)?,
        }
        // Each sample must reach a pipe as soon as it is taken.
        out.flush()?;
        previous = current;
    }
    Ok(ExitCode::SUCCESS)
}

/// Reads the texts the top statement list needs that are not cached yet;
/// a failure only leaves texts out, with a note.
async fn read_texts(
    session: &MonitorSession,
    previous: &Snapshot,
    current: &Snapshot,
    texts: &mut FxHashMap<i64, String>,
) -> Option<String> {
    let (Some(before), Some(now)) = (&previous.statements, &current.statements) else {
        return None;
    };
    if texts.len() > MAX_CACHED_TEXTS {
        texts.clear();
    }
    let deltas = statement_deltas(before, now);
    // A text read may show a statement is pgadvisor's own, which frees its
    // place for the next one: a few rounds settle the list.
    for _ in 0..3 {
        let needed = texts_needed(&deltas, texts, TOP_STATEMENTS);
        if needed.is_empty() {
            break;
        }
        match session.statement_texts(&needed).await {
            Ok(found) if found.is_empty() => break,
            Ok(found) => texts.extend(found),
            Err(e) => return Some(format!("{e:#}")),
        }
    }
    None
}

/// A flag raised by the first Ctrl-C. Listening starts here, once, so a
/// Ctrl-C that arrives while a sample is being taken or printed is not
/// lost: the loop sees it as soon as it waits again.
fn ctrl_c_listener() -> watch::Receiver<bool> {
    let (raise, flag) = watch::channel(false);
    tokio::spawn(async move {
        match tokio::signal::ctrl_c().await {
            Ok(()) => {
                let _ = raise.send(true);
            }
            Err(e) => {
                eprintln!("warning: cannot listen for Ctrl-C ({e}); use --count to stop");
                // Keep the sender, so the flag never reads as raised.
                std::future::pending::<()>().await;
            }
        }
    });
    flag
}

/// `work`'s output, or `None` when Ctrl-C comes first (the work is then
/// dropped: nothing of it has been printed).
async fn unless_stopped<F: Future>(stop: &mut watch::Receiver<bool>, work: F) -> Option<F::Output> {
    if *stop.borrow() {
        return None;
    }
    tokio::select! {
        out = work => Some(out),
        () = raised(stop) => None,
    }
}

async fn raised(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow_and_update() {
        if stop.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

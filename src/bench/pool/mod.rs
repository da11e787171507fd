//! The pool-size sweep: warm up, then one measured step per pool size and
//! repeat, in shuffled order (so drift in the machine's state — caches,
//! checkpoints, a neighbour's load — spreads over all sizes instead of
//! biasing the last ones), until done or told to stop.

pub mod cap;
pub mod cpu;
pub mod report;
pub mod runner;
pub mod script;
pub mod workload;

use runner::{RunConfig, StepOutcome, Target, run_step};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;
use workload::LoadWorkload;

/// A stop request (Ctrl-C) that every part of a run can check or await.
#[derive(Debug, Default)]
pub struct Stop {
    flag: AtomicBool,
    notify: Notify,
}

impl Stop {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    pub fn trigger(&self) {
        self.flag.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    #[inline]
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Resolves once `trigger` has been called (at once if it was).
    pub async fn wait(&self) {
        let notified = self.notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        if self.flag.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

/// One planned step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlannedStep {
    pub pool_size: u32,
    /// 1-based.
    pub repeat: u32,
}

/// Every size × repeat, shuffled with `seed`.
pub fn plan(sizes: &[u32], repeats: u32, seed: u64) -> Vec<PlannedStep> {
    let mut steps: Vec<PlannedStep> = (1..=repeats.max(1))
        .flat_map(|repeat| {
            sizes
                .iter()
                .map(move |&pool_size| PlannedStep { pool_size, repeat })
        })
        .collect();
    fastrand::Rng::with_seed(seed).shuffle(&mut steps);
    steps
}

/// Hears about the sweep as it goes (progress bar or log lines).
pub trait SweepProgress: Sync {
    fn warmup(&self, _seconds: f64) {}
    fn step_started(&self, _index: usize, _total: usize, _step: PlannedStep) {}
    fn tick(&self, _seconds_into_step: f64) {}
    fn step_done(&self, _index: usize, _total: usize, _outcome: &StepOutcome) {}
}

/// What a sweep produced.
pub struct Sweep {
    /// In the order run: (plan position, repeat, measurement).
    pub steps: Vec<(usize, u32, StepOutcome)>,
    pub interrupted: bool,
    /// What stopped the sweep early, if anything did (steps so far stay).
    pub error: Option<anyhow::Error>,
}

/// Warms up at the largest size for `warmup`, then runs `steps`.
pub async fn run_sweep(
    target: &Target<'_>,
    workload: &Arc<LoadWorkload>,
    cfg: &RunConfig,
    warmup: std::time::Duration,
    steps: &[PlannedStep],
    stop: &Arc<Stop>,
    progress: &dyn SweepProgress,
) -> Sweep {
    let mut sweep = Sweep {
        steps: Vec::new(),
        interrupted: false,
        error: None,
    };
    let largest = steps.iter().map(|s| s.pool_size).max().unwrap_or(1);
    if !warmup.is_zero() {
        progress.warmup(warmup.as_secs_f64());
        let warm = RunConfig {
            duration: warmup,
            ..cfg.clone()
        };
        match run_step(target, workload, &warm, largest, stop, &|_| {}).await {
            Ok(Some(_)) => {}
            Ok(None) => {
                sweep.interrupted = true;
                return sweep;
            }
            Err(e) => {
                sweep.error = Some(e.context("during the warm-up"));
                return sweep;
            }
        }
    }
    for (i, step) in steps.iter().enumerate() {
        if stop.is_set() {
            sweep.interrupted = true;
            break;
        }
        progress.step_started(i, steps.len(), *step);
        match run_step(target, workload, cfg, step.pool_size, stop, &|s| {
            progress.tick(s)
        })
        .await
        {
            Ok(Some(outcome)) => {
                progress.step_done(i, steps.len(), &outcome);
                sweep.steps.push((i, step.repeat, outcome));
            }
            Ok(None) => {
                sweep.interrupted = true;
                break;
            }
            Err(e) => {
                sweep.error = Some(e.context(format!("at pool size {}", step.pool_size)));
                break;
            }
        }
    }
    sweep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_covers_every_size_and_repeat_once() {
        let p = plan(&[1, 2, 4, 8], 3, 42);
        assert_eq!(p.len(), 12);
        for size in [1, 2, 4, 8] {
            for repeat in 1..=3 {
                assert_eq!(
                    p.iter()
                        .filter(|s| s.pool_size == size && s.repeat == repeat)
                        .count(),
                    1
                );
            }
        }
        assert_eq!(p, plan(&[1, 2, 4, 8], 3, 42), "the seed fixes the order");
    }

    #[tokio::test]
    async fn stop_wakes_waiters_and_stays_set() {
        let stop = Stop::new();
        let s2 = stop.clone();
        let waiter = tokio::spawn(async move { s2.wait().await });
        tokio::task::yield_now().await;
        stop.trigger();
        waiter.await.unwrap();
        assert!(stop.is_set());
        stop.wait().await;
    }
}

//! The top-level sections of an EXPLAIN document besides the plan tree:
//! JIT compilation and triggers.

use super::json::{Object, json_record, take_record};

json_record! {
    /// The "JIT" section (present when JIT compiled anything).
    pub struct Jit {
        "Functions" => functions: u64,
        ;
        #[serde(rename = "Options", skip_serializing_if = "Option::is_none")]
        pub options: Option<JitOptions>,
        /// Present with ANALYZE only.
        #[serde(rename = "Timing", skip_serializing_if = "Option::is_none")]
        pub timing: Option<JitTiming>,
        #[serde(flatten)]
        pub extra: Object,
    }
}

json_record! {
    /// Which JIT stages ran.
    pub struct JitOptions {
        "Inlining" => inlining: bool,
        "Optimization" => optimization: bool,
        "Expressions" => expressions: bool,
        "Deforming" => deforming: bool,
        ;
        #[serde(flatten)]
        pub extra: Object,
    }
}

json_record! {
    /// JIT time per stage, in milliseconds. (PostgreSQL 17 prints
    /// "Generation" as an object with its own "Total"; that object is kept
    /// in `extra` and `generation` is then `None`.)
    pub struct JitTiming {
        "Generation" => generation: f64,
        "Inlining" => inlining: f64,
        "Optimization" => optimization: f64,
        "Emission" => emission: f64,
        "Total" => total: f64,
        ;
        #[serde(flatten)]
        pub extra: Object,
    }
}

json_record! {
    /// One trigger's share of a write's execution (EXPLAIN ANALYZE).
    pub struct Trigger {
        "Trigger Name" => trigger_name: String,
        "Constraint Name" => constraint_name: String,
        "Relation" => relation: String,
        /// Milliseconds, over all calls.
        "Time" => time_ms: f64,
        "Calls" => calls: f64,
        ;
        #[serde(flatten)]
        pub extra: Object,
    }
}

impl Jit {
    pub(crate) fn from_object(mut object: Object) -> Jit {
        let mut jit = Jit::default();
        jit.fill_known(&mut object);
        jit.options = take_record(&mut object, "Options", |mut o| {
            let mut options = JitOptions::default();
            options.fill_known(&mut o);
            options.extra = o;
            options
        });
        jit.timing = take_record(&mut object, "Timing", |mut o| {
            let mut timing = JitTiming::default();
            timing.fill_known(&mut o);
            timing.extra = o;
            timing
        });
        jit.extra = object;
        jit
    }

    /// Total JIT time in milliseconds, when the run was timed.
    pub fn total_ms(&self) -> Option<f64> {
        self.timing.as_ref()?.total
    }
}

impl Trigger {
    pub(crate) fn from_object(mut object: Object) -> Trigger {
        let mut trigger = Trigger::default();
        trigger.fill_known(&mut object);
        trigger.extra = object;
        trigger
    }
}

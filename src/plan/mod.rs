//! The typed EXPLAIN plan: what `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON)`
//! (or plain `EXPLAIN (FORMAT JSON)`, whose run-time fields are then `None`)
//! printed, as data the finding rules can read.
//!
//! Parsing is lenient where leniency loses nothing: a known key whose value
//! has an unexpected type stays in the node's `extra` map with every key
//! the model has no field for, so a plan from a newer server still parses
//! and serializes back whole. It is strict where a guess would mislead: no
//! "Plan", a node without a string "Node Type", or "Plans" that is not a list
//! of nodes is an error. No input panics (property-tested in `proptests`).

mod condition;
mod extras;
mod json;
mod node;
mod walk;

#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use condition::{Comparison, ConditionColumn, condition_columns, index_columns};
pub use extras::{Jit, JitOptions, JitTiming, Trigger};
pub use node::{Misestimate, PlanNode, Worker};
pub use walk::{NodeRef, PlanWalk};

use json::{Object, take, take_record, take_records};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;

/// Plans nested deeper than this are refused. Each plan level is two JSON
/// levels ("Plans" array, node object), and serde_json refuses documents
/// nested deeper than 128, so no plan read from text comes close; the limit
/// keeps recursion bounded on values built in memory.
pub const MAX_DEPTH: usize = 100;

/// One EXPLAIN result.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Explain {
    #[serde(rename = "Plan")]
    pub plan: PlanNode,
    /// Milliseconds (EXPLAIN ANALYZE, or SUMMARY).
    #[serde(rename = "Planning Time", skip_serializing_if = "Option::is_none")]
    pub planning_time_ms: Option<f64>,
    /// Milliseconds (EXPLAIN ANALYZE). Includes JIT and trigger time.
    #[serde(rename = "Execution Time", skip_serializing_if = "Option::is_none")]
    pub execution_time_ms: Option<f64>,
    #[serde(rename = "JIT", skip_serializing_if = "Option::is_none")]
    pub jit: Option<Jit>,
    #[serde(rename = "Triggers", skip_serializing_if = "Vec::is_empty")]
    pub triggers: Vec<Trigger>,
    /// Set by auto_explain's JSON output.
    #[serde(rename = "Query Text", skip_serializing_if = "Option::is_none")]
    pub query_text: Option<String>,
    /// Every other top-level key ("Planning" buffers, "Settings", "Query
    /// Identifier", …).
    #[serde(flatten)]
    pub extra: Object,
}

/// Why a JSON document is not an EXPLAIN plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PlanError {
    /// Not an array holding one EXPLAIN object, nor such an object.
    NotExplain(String),
    /// A node that cannot be read; `path` locates it ("Plan.Plans[1]").
    Malformed { path: String, problem: String },
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep { path: String },
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::NotExplain(why) => write!(f, "not an EXPLAIN (FORMAT JSON) result: {why}"),
            PlanError::Malformed { path, problem } => {
                write!(f, "malformed plan at {path}: {problem}")
            }
            PlanError::TooDeep { path } => {
                write!(f, "plan nested deeper than {MAX_DEPTH} levels at {path}")
            }
        }
    }
}

impl std::error::Error for PlanError {}

/// Reads the result of `EXPLAIN (…, FORMAT JSON)`: the array of one object
/// the server returns, or that object alone (as auto_explain logs it).
pub fn parse_explain(value: &Value) -> Result<Explain, PlanError> {
    let top = match value {
        Value::Array(items) => match items.as_slice() {
            [one] => one,
            _ => {
                return Err(PlanError::NotExplain(format!(
                    "expected an array of one object, found {} items",
                    items.len()
                )));
            }
        },
        other => other,
    };
    let Value::Object(object) = top else {
        return Err(PlanError::NotExplain(format!(
            "expected an object, found {}",
            kind(top)
        )));
    };
    let plan = match object.get("Plan") {
        Some(Value::Object(plan)) => parse_node(plan, &mut vec!["Plan".to_owned()])?,
        Some(other) => {
            return Err(PlanError::NotExplain(format!(
                "\"Plan\" is {}, not an object",
                kind(other)
            )));
        }
        None => return Err(PlanError::NotExplain("no \"Plan\" key".to_owned())),
    };
    let mut object = without(object, &["Plan"]);
    Ok(Explain {
        plan,
        planning_time_ms: take(&mut object, "Planning Time"),
        execution_time_ms: take(&mut object, "Execution Time"),
        jit: take_record(&mut object, "JIT", Jit::from_object),
        triggers: take_records(&mut object, "Triggers", Trigger::from_object),
        query_text: take(&mut object, "Query Text"),
        extra: object,
    })
}

/// [`parse_explain`] over JSON text.
pub fn parse_explain_str(text: &str) -> Result<Explain, PlanError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| PlanError::NotExplain(format!("invalid JSON: {e}")))?;
    parse_explain(&value)
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A copy of `object` without `keys` (the plan tree is never copied whole:
/// each node copies its own keys, so a deep tree cannot overflow the stack
/// before the depth limit is checked).
fn without(object: &Object, keys: &[&str]) -> Object {
    object
        .iter()
        .filter(|(k, _)| !keys.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn parse_node(object: &Object, path: &mut Vec<String>) -> Result<PlanNode, PlanError> {
    if path.len() > MAX_DEPTH {
        return Err(PlanError::TooDeep {
            path: path.join("."),
        });
    }
    let malformed = |path: &[String], problem: String| PlanError::Malformed {
        path: path.join("."),
        problem,
    };
    let node_type = match object.get("Node Type") {
        Some(Value::String(node_type)) => node_type.clone(),
        Some(other) => {
            return Err(malformed(path, format!("\"Node Type\" is {}", kind(other))));
        }
        None => return Err(malformed(path, "no \"Node Type\"".to_owned())),
    };
    let children: &[Value] = match object.get("Plans") {
        None => &[],
        Some(Value::Array(children)) => children,
        Some(other) => {
            return Err(malformed(
                path,
                format!("\"Plans\" is {}, not an array", kind(other)),
            ));
        }
    };
    let mut plans = Vec::with_capacity(children.len());
    for (i, child) in children.iter().enumerate() {
        path.push(format!("Plans[{i}]"));
        let Value::Object(child) = child else {
            return Err(malformed(path, format!("a child plan is {}", kind(child))));
        };
        plans.push(parse_node(child, path)?);
        path.pop();
    }
    let mut node = PlanNode::from_fields(node_type, without(object, &["Node Type", "Plans"]));
    node.plans = plans;
    Ok(node)
}

impl Explain {
    /// Every node, depth-first.
    pub fn nodes(&self) -> PlanWalk<'_> {
        self.plan.walk()
    }

    /// Whether this is an EXPLAIN ANALYZE result (the root has run-time
    /// numbers).
    pub fn is_analyzed(&self) -> bool {
        self.plan.actual_loops.is_some() || self.execution_time_ms.is_some()
    }

    /// The names of the indexes the plan reads, sorted, each once.
    pub fn indexes_used(&self) -> Vec<String> {
        self.nodes().indexes_used()
    }

    /// The node whose row estimate is furthest from what it produced, by
    /// factor (EXPLAIN ANALYZE only).
    pub fn worst_estimate(&self) -> Option<WorstEstimate> {
        let walk = self.nodes();
        let (node, m) = walk.worst_estimate()?;
        Some(WorstEstimate {
            node: node.node.label(),
            index: node.index,
            estimated_rows: m.estimated_rows,
            actual_rows: m.actual_rows,
            loops: m.loops,
            factor: m.factor,
            underestimated: m.underestimated,
        })
    }
}

/// [`Explain::worst_estimate`]: a node's label and its misestimate.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WorstEstimate {
    /// The node as EXPLAIN names it ("Seq Scan on addresses").
    pub node: String,
    /// Its position in [`Explain::nodes`] (depth-first, 0 = root).
    pub index: usize,
    /// Rows per loop.
    pub estimated_rows: f64,
    /// Rows per loop.
    pub actual_rows: f64,
    pub loops: f64,
    /// ≥ 1; see [`Misestimate::factor`].
    pub factor: f64,
    pub underestimated: bool,
}

impl<'de> Deserialize<'de> for Explain {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = Value::deserialize(deserializer)?;
        parse_explain(&value).map_err(serde::de::Error::custom)
    }
}

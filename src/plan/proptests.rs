//! Property tests: the parser never panics, on captured plans mutated at
//! random (keys dropped, values replaced by other types, subtrees wrapped,
//! copied and nested) nor on arbitrary JSON; and whatever it accepts
//! serializes back to a value that parses to the same plan.

use super::fixtures::ALL;
use super::{PlanNode, parse_explain};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

#[derive(Clone, Debug)]
enum Mutation {
    /// Drop one key of the n-th object.
    DropKey(usize, usize),
    /// Replace the n-th value.
    Replace(usize, Value),
    /// Wrap the n-th value in an array or an object.
    Wrap(usize, bool),
    /// Copy the m-th value under "Plans" of the n-th object.
    Nest(usize, usize),
}

/// Keys the parser looks for, so random documents reach its branches.
fn key() -> impl Strategy<Value = String> {
    let known: Vec<&'static str> = PlanNode::KNOWN_KEYS
        .iter()
        .copied()
        .chain([
            "Plan",
            "Plans",
            "Node Type",
            "Workers",
            "JIT",
            "Timing",
            "Options",
            "Total",
            "Triggers",
            "Planning Time",
            "Execution Time",
            "Query Text",
        ])
        .collect();
    prop_oneof![
        3 => proptest::sample::select(known).prop_map(str::to_owned),
        1 => "[A-Za-z ]{0,10}",
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[ -~]{0,12}".prop_map(Value::from),
        Just(json!("Seq Scan")),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<usize>()).prop_map(|(n, k)| Mutation::DropKey(n, k)),
        (any::<usize>(), json_value()).prop_map(|(n, v)| Mutation::Replace(n, v)),
        (any::<usize>(), any::<bool>()).prop_map(|(n, a)| Mutation::Wrap(n, a)),
        (any::<usize>(), any::<usize>()).prop_map(|(n, m)| Mutation::Nest(n, m)),
    ]
}

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The n-th value in pre-order.
fn nth(v: &mut Value, n: usize) -> Option<&mut Value> {
    fn go<'a>(v: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(v);
        }
        *n -= 1;
        match v {
            Value::Array(items) => items.iter_mut().find_map(|c| go(c, n)),
            Value::Object(map) => map.values_mut().find_map(|c| go(c, n)),
            _ => None,
        }
    }
    let mut n = n;
    go(v, &mut n)
}

/// Pre-order positions of the objects in `v`.
fn object_positions(v: &Value) -> Vec<usize> {
    fn go(v: &Value, next: &mut usize, out: &mut Vec<usize>) {
        if v.is_object() {
            out.push(*next);
        }
        *next += 1;
        match v {
            Value::Array(items) => items.iter().for_each(|c| go(c, next, out)),
            Value::Object(map) => map.values().for_each(|c| go(c, next, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    go(v, &mut 0, &mut out);
    out
}

/// The n-th object in pre-order (n taken modulo the number of objects).
fn nth_object(v: &mut Value, n: usize) -> Option<&mut Map<String, Value>> {
    let objects = object_positions(v);
    let pick = *objects.get(n % objects.len().max(1))?;
    nth(v, pick)?.as_object_mut()
}

fn apply(v: &mut Value, mutation: &Mutation) {
    let total = count(v);
    match mutation {
        Mutation::DropKey(n, k) => {
            if let Some(map) = nth_object(v, *n)
                && let Some(key) = map.keys().nth(k % map.len().max(1)).cloned()
            {
                map.remove(&key);
            }
        }
        Mutation::Replace(n, new) => {
            if let Some(slot) = nth(v, n % total) {
                *slot = new.clone();
            }
        }
        Mutation::Wrap(n, as_array) => {
            if let Some(slot) = nth(v, n % total) {
                let inner = slot.take();
                *slot = if *as_array {
                    json!([inner])
                } else {
                    json!({ "Plan": inner })
                };
            }
        }
        Mutation::Nest(n, m) => {
            let Some(copy) = nth(v, m % total).map(|x| x.clone()) else {
                return;
            };
            if let Some(map) = nth_object(v, *n) {
                map.insert("Plans".to_owned(), json!([copy]));
            }
        }
    }
}

/// Parsing what the model wrote gives the same plan again.
fn assert_round_trip(v: &Value) -> Result<(), TestCaseError> {
    if let Ok(explain) = parse_explain(v) {
        let written = serde_json::to_value(&explain).expect("a plan serializes");
        prop_assert_eq!(parse_explain(&written), Ok(explain));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn mutated_captured_plans_never_panic(
        fixture in 0..ALL.len(),
        mutations in prop::collection::vec(mutation(), 1..6),
    ) {
        let mut v: Value = serde_json::from_str(ALL[fixture].1).unwrap();
        for m in &mutations {
            apply(&mut v, m);
        }
        assert_round_trip(&v)?;
    }

    #[test]
    fn arbitrary_json_never_panics(v in json_value()) {
        assert_round_trip(&v)?;
        assert_round_trip(&json!([{ "Plan": v.clone() }]))?;
        let mut node = json!({"Node Type": "Seq Scan"});
        if let (Some(target), Value::Object(fields)) = (node.as_object_mut(), &v) {
            target.extend(fields.clone());
        }
        assert_round_trip(&json!({ "Plan": node }))?;
    }
}

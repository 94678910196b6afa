//! json-logic with json-logic-js semantics, compiled once per rule.
//!
//! Why not a crate: the Rust json-logic crates interpret the rule's JSON on every call (the
//! rules of a production artifact would be re-walked for every visitor), and none of them
//! documents JavaScript's loose `==`, relational coercion and `in`-as-substring, which Adobe's
//! SDKs rely on (`{"==": [{"var": "current_day"}, "5"]}`). Target's artifacts use only the
//! stock operators, so this module compiles those into a tree once, at artifact load, and
//! evaluates the tree against a variable resolver without building a JSON context per rule.

use serde_json::{Map, Value};
use std::borrow::Cow;
use thiserror::Error;

mod js;
mod shared;

pub use js::{js_number, loose_eq, strict_eq, to_js_string, to_number, truthy};
use js::{less_or_equal, less_than, number};
pub use shared::{Memo, SharedConditions};

/// A condition that cannot be compiled (an operator Target's engine does not have, a bad shape).
#[derive(Debug, Error, PartialEq)]
pub enum LogicError {
    #[error("unsupported json-logic operator {0:?}")]
    UnknownOperator(String),
    #[error("malformed json-logic: {0}")]
    Malformed(String),
}

/// Where `var` looks values up: a dotted path split into segments.
pub trait Variables {
    /// The value at `path`, or `None` when any segment is missing.
    fn lookup(&self, path: &[String]) -> Option<Cow<'_, Value>>;

    /// The remembered result of shared sub-condition `slot`, when it was tested already.
    fn recall(&self, _slot: u32) -> Option<bool> {
        None
    }

    /// Remembers the result of shared sub-condition `slot`.
    fn remember(&self, _slot: u32, _satisfied: bool) {}
}

/// Bounds on the visitor's allocation that a condition requires in its top-level `and`
/// (every A/B activity's rules start with them), tested as two float comparisons.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AllocationRange {
    low: Bound,
    high: Bound,
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct Bound {
    value: f64,
    inclusive: bool,
}

impl AllocationRange {
    /// Whether `allocation` is inside.
    pub fn contains(&self, allocation: f64) -> bool {
        let above = if self.low.inclusive {
            allocation >= self.low.value
        } else {
            allocation > self.low.value
        };
        let below = if self.high.inclusive {
            allocation <= self.high.value
        } else {
            allocation < self.high.value
        };
        above && below
    }

    fn everything() -> AllocationRange {
        let open = |value| Bound {
            value,
            inclusive: true,
        };
        AllocationRange {
            low: open(f64::NEG_INFINITY),
            high: open(f64::INFINITY),
        }
    }

    /// Narrows the range by `x < y` / `x <= y` where one side is the allocation, the other a
    /// number; false when the comparison is not of that shape.
    fn narrow(&mut self, x: &Logic, y: &Logic, inclusive: bool) -> bool {
        match (
            x.as_number(),
            y.is_allocation(),
            x.is_allocation(),
            y.as_number(),
        ) {
            (Some(value), true, _, _) => {
                let tighter = value > self.low.value || (value == self.low.value && !inclusive);
                if tighter {
                    self.low = Bound { value, inclusive };
                }
                true
            }
            (_, _, true, Some(value)) => {
                let tighter = value < self.high.value || (value == self.high.value && !inclusive);
                if tighter {
                    self.high = Bound { value, inclusive };
                }
                true
            }
            _ => false,
        }
    }

    /// Takes the allocation comparisons out of `logic`'s top-level `and` (nested `and`s
    /// included): the range they require, and what remains to test.
    pub fn split(logic: Logic) -> (Option<AllocationRange>, Logic) {
        let mut conjuncts = Vec::new();
        flatten_and(logic, &mut conjuncts);
        let mut range = AllocationRange::everything();
        let mut found = false;
        let mut rest = Vec::new();
        for conjunct in conjuncts {
            let taken = match &conjunct {
                Logic::Apply(OpCode(op), args) => match (op, args.as_slice()) {
                    (Op::Lt | Op::Le, [x, y]) => range.narrow(x, y, *op == Op::Le),
                    (Op::Gt | Op::Ge, [x, y]) => range.narrow(y, x, *op == Op::Ge),
                    (Op::Lt | Op::Le, [x, y, z]) if y.is_allocation() => {
                        let mut between = range;
                        let inclusive = *op == Op::Le;
                        let ok = between.narrow(x, y, inclusive) && between.narrow(y, z, inclusive);
                        if ok {
                            range = between;
                        }
                        ok
                    }
                    _ => false,
                },
                _ => false,
            };
            found |= taken;
            if !taken {
                rest.push(conjunct);
            }
        }
        if !found {
            return (None, and_of(rest));
        }
        let rest = if rest.is_empty() {
            Logic::Literal(Value::Bool(true))
        } else {
            and_of(rest)
        };
        (Some(range), rest)
    }
}

fn flatten_and(logic: Logic, out: &mut Vec<Logic>) {
    match logic {
        Logic::Apply(OpCode(Op::And), args) if !args.is_empty() => {
            for a in args {
                flatten_and(a, out);
            }
        }
        other => out.push(other),
    }
}

fn and_of(mut conjuncts: Vec<Logic>) -> Logic {
    if conjuncts.len() == 1 {
        conjuncts.remove(0)
    } else {
        Logic::Apply(OpCode(Op::And), conjuncts)
    }
}

impl Variables for Value {
    fn lookup(&self, path: &[String]) -> Option<Cow<'_, Value>> {
        walk(self, path).map(Cow::Borrowed)
    }
}

/// Follows `path` into `value` (object keys or array indexes).
pub fn walk<'v>(mut value: &'v Value, path: &[String]) -> Option<&'v Value> {
    for seg in path {
        value = match value {
            Value::Object(map) => map.get(seg.as_str())?,
            Value::Array(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(value)
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    And,
    Or,
    Not,
    NotNot,
    LooseEq,
    LooseNe,
    StrictEq,
    StrictNe,
    Lt,
    Le,
    Gt,
    Ge,
    In,
    Substr,
    Cat,
    If,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Max,
    Min,
}

impl Op {
    fn parse(name: &str) -> Option<Op> {
        Some(match name {
            "and" => Op::And,
            "or" => Op::Or,
            "!" => Op::Not,
            "!!" => Op::NotNot,
            "==" => Op::LooseEq,
            "!=" => Op::LooseNe,
            "===" => Op::StrictEq,
            "!==" => Op::StrictNe,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "in" => Op::In,
            "substr" => Op::Substr,
            "cat" => Op::Cat,
            "if" | "?:" => Op::If,
            "+" => Op::Add,
            "-" => Op::Sub,
            "*" => Op::Mul,
            "/" => Op::Div,
            "%" => Op::Mod,
            "max" => Op::Max,
            "min" => Op::Min,
            _ => return None,
        })
    }
}

/// A compiled json-logic expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Logic {
    Literal(Value),
    Array(Vec<Logic>),
    /// `var` with a literal path (empty = the whole data) and an optional default.
    Var(Vec<String>, Option<Box<Logic>>),
    /// `var` whose path is computed.
    VarDynamic(Box<Logic>, Option<Box<Logic>>),
    Apply(OpCode, Vec<Logic>),
    /// A shared sub-condition: its truthiness is remembered in a `Memo` slot.
    Memo(u32, Box<Logic>),
}

/// An operator of a compiled expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OpCode(Op);

impl Logic {
    /// Compiles a json-logic rule.
    pub fn compile(rule: &Value) -> Result<Logic, LogicError> {
        match rule {
            Value::Array(items) => Ok(Logic::Array(
                items.iter().map(Logic::compile).collect::<Result<_, _>>()?,
            )),
            Value::Object(map) if map.len() == 1 => {
                let (name, args) = map.iter().next().expect("one entry");
                let args: Vec<&Value> = match args {
                    Value::Array(items) => items.iter().collect(),
                    single => vec![single],
                };
                if name == "var" {
                    return compile_var(&args);
                }
                let op =
                    Op::parse(name).ok_or_else(|| LogicError::UnknownOperator(name.clone()))?;
                let args = args
                    .into_iter()
                    .map(Logic::compile)
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Logic::Apply(OpCode(op), args))
            }
            other => Ok(Logic::Literal(other.clone())),
        }
    }

    /// Evaluates against `data`, returning a JSON value as json-logic-js would.
    pub fn evaluate<'a, V: Variables + ?Sized>(&'a self, data: &'a V) -> Cow<'a, Value> {
        match self {
            Logic::Literal(v) => Cow::Borrowed(v),
            Logic::Array(items) => Cow::Owned(Value::Array(
                items
                    .iter()
                    .map(|l| l.evaluate(data).into_owned())
                    .collect(),
            )),
            Logic::Var(path, default) => match data.lookup(path) {
                Some(v) => v,
                _ => default
                    .as_ref()
                    .map(|d| d.evaluate(data))
                    .unwrap_or(Cow::Owned(Value::Null)),
            },
            Logic::VarDynamic(path, default) => {
                let path = path.evaluate(data);
                let segs = var_path(&path);
                match data.lookup(&segs) {
                    Some(v) => Cow::Owned(v.into_owned()),
                    _ => default
                        .as_ref()
                        .map(|d| d.evaluate(data))
                        .unwrap_or(Cow::Owned(Value::Null)),
                }
            }
            Logic::Apply(OpCode(op), args) => apply(*op, args, data),
            Logic::Memo(_, inner) => inner.evaluate(data),
        }
    }

    fn as_number(&self) -> Option<f64> {
        match self {
            Logic::Literal(Value::Number(n)) => n.as_f64(),
            _ => None,
        }
    }

    fn is_allocation(&self) -> bool {
        matches!(self, Logic::Var(path, None) if path.len() == 1 && path[0] == "allocation")
    }

    /// Whether the value may change with the visitor's allocation (computed paths may).
    pub fn depends_on_allocation(&self) -> bool {
        match self {
            Logic::Literal(_) => false,
            Logic::Array(items) | Logic::Apply(_, items) => {
                items.iter().any(Logic::depends_on_allocation)
            }
            Logic::Var(path, default) => {
                path.first().is_some_and(|p| p == "allocation")
                    || default.as_ref().is_some_and(|d| d.depends_on_allocation())
            }
            Logic::VarDynamic(..) => true,
            Logic::Memo(_, inner) => inner.depends_on_allocation(),
        }
    }

    /// Whether the rule is satisfied (json-logic truthiness of the result). Boolean operators
    /// are tested directly, without building the values `and`/`or` would return.
    pub fn matches<V: Variables + ?Sized>(&self, data: &V) -> bool {
        match self {
            Logic::Apply(OpCode(op), args) => test(*op, args, data),
            Logic::Memo(slot, inner) => data.recall(*slot).unwrap_or_else(|| {
                let satisfied = inner.matches(data);
                data.remember(*slot, satisfied);
                satisfied
            }),
            other => truthy(&other.evaluate(data)),
        }
    }
}

fn compile_var(args: &[&Value]) -> Result<Logic, LogicError> {
    let default = match args.get(1) {
        Some(d) => Some(Box::new(Logic::compile(d)?)),
        None => None,
    };
    match args.first() {
        None => Ok(Logic::Var(Vec::new(), default)),
        Some(Value::Object(_)) | Some(Value::Array(_)) => Ok(Logic::VarDynamic(
            Box::new(Logic::compile(args[0])?),
            default,
        )),
        Some(literal) => Ok(Logic::Var(var_path(literal), default)),
    }
}

fn var_path(path: &Value) -> Vec<String> {
    let text = match path {
        Value::Null => return Vec::new(),
        Value::String(s) => s.clone(),
        other => to_js_string(other),
    };
    if text.is_empty() {
        Vec::new()
    } else {
        text.split('.').map(str::to_string).collect()
    }
}

fn apply<'a, V: Variables + ?Sized>(op: Op, args: &'a [Logic], data: &'a V) -> Cow<'a, Value> {
    let arg = |i: usize| {
        args.get(i)
            .map(|a| a.evaluate(data))
            .unwrap_or(Cow::Owned(Value::Null))
    };
    let boolean = |b: bool| Cow::Owned(Value::Bool(b));
    match op {
        Op::And => {
            let mut last = Cow::Owned(Value::Null);
            for a in args {
                last = a.evaluate(data);
                if !truthy(&last) {
                    return last;
                }
            }
            last
        }
        Op::Or => {
            let mut last = Cow::Owned(Value::Null);
            for a in args {
                last = a.evaluate(data);
                if truthy(&last) {
                    return last;
                }
            }
            last
        }
        Op::Not
        | Op::NotNot
        | Op::LooseEq
        | Op::LooseNe
        | Op::StrictEq
        | Op::StrictNe
        | Op::Lt
        | Op::Le
        | Op::Gt
        | Op::Ge
        | Op::In => boolean(test(op, args, data)),
        Op::Substr => {
            let source: Vec<u16> = to_js_string(&arg(0)).encode_utf16().collect();
            let start = to_number(&arg(1));
            let len = source.len() as f64;
            let start = if start.is_nan() {
                0.0
            } else if start < 0.0 {
                (len + start).max(0.0)
            } else {
                start.min(len)
            };
            let end = if args.len() > 2 {
                let n = to_number(&arg(2));
                if n < 0.0 {
                    (len + n).max(start)
                } else if n.is_nan() {
                    start
                } else {
                    (start + n).min(len)
                }
            } else {
                len
            };
            let slice = &source[start as usize..(end as usize).max(start as usize)];
            Cow::Owned(Value::String(String::from_utf16_lossy(slice)))
        }
        Op::Cat => Cow::Owned(Value::String(
            args.iter()
                .map(|a| to_js_string(&a.evaluate(data)))
                .collect(),
        )),
        Op::If => {
            let mut i = 0;
            while i + 1 < args.len() {
                if truthy(&args[i].evaluate(data)) {
                    return args[i + 1].evaluate(data);
                }
                i += 2;
            }
            if i < args.len() {
                args[i].evaluate(data)
            } else {
                Cow::Owned(Value::Null)
            }
        }
        Op::Add => number(args.iter().map(|a| to_number(&a.evaluate(data))).sum()),
        Op::Mul => number(args.iter().map(|a| to_number(&a.evaluate(data))).product()),
        Op::Sub => match args.len() {
            1 => number(-to_number(&arg(0))),
            _ => number(to_number(&arg(0)) - to_number(&arg(1))),
        },
        Op::Div => number(to_number(&arg(0)) / to_number(&arg(1))),
        Op::Mod => number(to_number(&arg(0)) % to_number(&arg(1))),
        Op::Max | Op::Min => {
            let values: Vec<f64> = args.iter().map(|a| to_number(&a.evaluate(data))).collect();
            if values.is_empty() {
                return Cow::Owned(Value::Null);
            }
            let pick = if op == Op::Max { f64::max } else { f64::min };
            number(values.into_iter().reduce(pick).unwrap_or(f64::NAN))
        }
    }
}

/// The operators whose result is a boolean, evaluated without building a JSON value.
fn test<V: Variables + ?Sized>(op: Op, args: &[Logic], data: &V) -> bool {
    let arg = |i: usize| {
        args.get(i)
            .map(|a| a.evaluate(data))
            .unwrap_or(Cow::Owned(Value::Null))
    };
    match op {
        Op::Not => !args.first().is_some_and(|a| a.matches(data)),
        Op::NotNot => args.first().is_some_and(|a| a.matches(data)),
        Op::LooseEq => loose_eq(&arg(0), &arg(1)),
        Op::LooseNe => !loose_eq(&arg(0), &arg(1)),
        Op::StrictEq => strict_eq(&arg(0), &arg(1)),
        Op::StrictNe => !strict_eq(&arg(0), &arg(1)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => {
            let (a, b) = (arg(0), arg(1));
            let cmp = |x: &Value, y: &Value| match op {
                Op::Lt => less_than(x, y),
                Op::Le => less_or_equal(x, y),
                Op::Gt => less_than(y, x),
                _ => less_or_equal(y, x),
            };
            // `<` and `<=` with three arguments test "between".
            if args.len() == 3 && matches!(op, Op::Lt | Op::Le) {
                cmp(&a, &b) && cmp(&b, &arg(2))
            } else {
                cmp(&a, &b)
            }
        }
        Op::In => {
            let (needle, haystack) = (arg(0), arg(1));
            match haystack.as_ref() {
                Value::String(s) => match needle.as_ref() {
                    Value::String(n) => s.contains(n.as_str()),
                    other => s.contains(to_js_string(other).as_str()),
                },
                Value::Array(items) => items.iter().any(|item| strict_eq(item, &needle)),
                _ => false,
            }
        }
        Op::And => !args.is_empty() && args.iter().all(|a| a.matches(data)),
        Op::Or => args.iter().any(|a| a.matches(data)),
        _ => truthy(&apply(op, args, data)),
    }
}

/// An empty JSON object (for contexts with nothing in them).
pub fn empty_object() -> Value {
    Value::Object(Map::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(rule: Value, data: Value) -> Value {
        Logic::compile(&rule).unwrap().evaluate(&data).into_owned()
    }

    #[test]
    fn loose_equality_follows_javascript() {
        assert_eq!(
            eval(json!({"==": [{"var": "d"}, "5"]}), json!({"d": 5})),
            json!(true)
        );
        assert_eq!(eval(json!({"==": [1, true]}), json!({})), json!(true));
        assert_eq!(eval(json!({"==": [null, 0]}), json!({})), json!(false));
        assert_eq!(eval(json!({"==": ["", 0]}), json!({})), json!(true));
        assert_eq!(eval(json!({"==": [[1, 2], "1,2"]}), json!({})), json!(true));
        assert_eq!(eval(json!({"===": [1, "1"]}), json!({})), json!(false));
        assert_eq!(eval(json!({"!=": ["a", "b"]}), json!({})), json!(true));
    }

    #[test]
    fn comparisons_coerce_like_javascript() {
        assert_eq!(
            eval(
                json!({"<": ["37.70", {"var": "lat"}]}),
                json!({"lat": 37.75})
            ),
            json!(true)
        );
        assert_eq!(
            eval(
                json!({"<=": ["0000", {"var": "t"}, "2359"]}),
                json!({"t": "1900"})
            ),
            json!(true)
        );
        assert_eq!(
            eval(
                json!({"<=": ["0000", {"var": "t"}, "2359"]}),
                json!({"t": "2400"})
            ),
            json!(false)
        );
        assert_eq!(eval(json!({"<": [1, 2, 3]}), json!({})), json!(true));
        assert_eq!(eval(json!({"<": [1, 3, 3]}), json!({})), json!(false));
        assert_eq!(
            eval(
                json!({">=": [50, {"var": "allocation"}]}),
                json!({"allocation": 48.44})
            ),
            json!(true)
        );
        assert_eq!(eval(json!({">": ["b", "a"]}), json!({})), json!(true));
        assert_eq!(eval(json!({"<": ["abc", 1]}), json!({})), json!(false));
    }

    #[test]
    fn in_tests_substrings_and_members() {
        assert_eq!(
            eval(
                json!({"in": ["bar", {"var": "u"}]}),
                json!({"u": "http://x/?bar=1"})
            ),
            json!(true)
        );
        assert_eq!(
            eval(json!({"in": ["b", ["a", "b"]]}), json!({})),
            json!(true)
        );
        assert_eq!(
            eval(json!({"in": ["b", {"var": "missing"}]}), json!({})),
            json!(false)
        );
    }

    #[test]
    fn and_or_return_operands_and_empty_arrays_are_false() {
        assert_eq!(eval(json!({"and": [1, "", 2]}), json!({})), json!(""));
        assert_eq!(eval(json!({"or": [0, "x"]}), json!({})), json!("x"));
        assert_eq!(eval(json!({"!": [[]]}), json!({})), json!(true));
        assert_eq!(eval(json!({"!!": ["0"]}), json!({})), json!(true));
    }

    #[test]
    fn var_paths_defaults_and_substr() {
        assert_eq!(
            eval(json!({"var": "a.b"}), json!({"a": {"b": 3}})),
            json!(3)
        );
        assert_eq!(eval(json!({"var": ["a.c", 9]}), json!({"a": {}})), json!(9));
        assert_eq!(eval(json!({"var": 1}), json!(["x", "y"])), json!("y"));
        assert_eq!(
            eval(json!({"substr": ["jsonlogic", 4]}), json!({})),
            json!("logic")
        );
        assert_eq!(
            eval(json!({"substr": ["jsonlogic", -5]}), json!({})),
            json!("logic")
        );
        assert_eq!(
            eval(json!({"substr": ["jsonlogic", 1, 3]}), json!({})),
            json!("son")
        );
        assert_eq!(
            eval(json!({"substr": ["jsonlogic", 4, -2]}), json!({})),
            json!("log")
        );
        assert_eq!(
            eval(json!({"cat": ["a", 1, null]}), json!({})),
            json!("a1null")
        );
    }

    #[test]
    fn matches_agrees_with_the_truthiness_of_evaluate() {
        let data = json!({"a": 0, "b": "x", "e": []});
        for rule in [
            json!({"and": []}),
            json!({"or": []}),
            json!({"and": [1, {"var": "b"}]}),
            json!({"and": [1, {"var": "a"}]}),
            json!({"or": [{"var": "a"}, {"var": "e"}]}),
            json!({"or": [{"var": "a"}, {"var": "b"}]}),
            json!({"!": [{"var": "e"}]}),
            json!({"!!": [{"and": [1, 2]}]}),
            json!({"!": []}),
        ] {
            let logic = Logic::compile(&rule).unwrap();
            assert_eq!(
                logic.matches(&data),
                truthy(&logic.evaluate(&data)),
                "{rule}"
            );
        }
    }

    #[test]
    fn unknown_operators_are_reported() {
        assert_eq!(
            Logic::compile(&json!({"regex_match": ["a", "b"]})),
            Err(LogicError::UnknownOperator("regex_match".into()))
        );
    }

    /// Counts lookups and keeps a memo, like the engine's rule variables.
    struct Counting {
        data: Value,
        lookups: std::cell::Cell<usize>,
        memo: Memo,
    }

    impl Variables for Counting {
        fn lookup(&self, path: &[String]) -> Option<Cow<'_, Value>> {
            self.lookups.set(self.lookups.get() + 1);
            self.data.lookup(path)
        }
        fn recall(&self, slot: u32) -> Option<bool> {
            self.memo.get(slot)
        }
        fn remember(&self, slot: u32, satisfied: bool) {
            self.memo.set(slot, satisfied)
        }
    }

    #[test]
    fn repeated_sub_conditions_are_tested_once_and_allocation_ones_every_time() {
        let page = json!({"==": ["home", {"var": "page.path"}]});
        let mut shared = SharedConditions::default();
        let mut compile = |rule: Value| shared.compile_rule(&rule).unwrap().1;
        let first = compile(json!({"or": [{"<": [{"var": "allocation"}, 50]}, page.clone()]}));
        let second = compile(json!({"and": [{"!": [{"var": "allocation"}]}, page.clone()]}));
        let third = compile(json!({"or": [page, false]}));
        // One slot for the page test, one for the `or`; none for anything reading allocation.
        assert_eq!(shared.slots(), 2);
        let vars = Counting {
            data: json!({"page": {"path": "home"}, "allocation": 60}),
            lookups: std::cell::Cell::new(0),
            memo: Memo::new(shared.slots()),
        };
        assert!(first.matches(&vars));
        assert!(!second.matches(&vars));
        assert!(third.matches(&vars));
        // allocation twice, page.path once.
        assert_eq!(vars.lookups.get(), 3);
    }

    #[test]
    fn allocation_comparisons_become_a_range_and_the_rest_stays() {
        let alloc = json!({"var": "allocation"});
        let split = |rule: Value| {
            let (range, rest) = AllocationRange::split(Logic::compile(&rule).unwrap());
            (range, rest)
        };
        let (range, rest) = split(json!({"and": [
            {"and": [{"<": [50, alloc]}, {">=": [75, alloc]}]},
            {"==": ["bar", {"var": "mbox.foo"}]}
        ]}));
        let range = range.unwrap();
        assert!(!range.contains(50.0) && range.contains(50.01) && range.contains(75.0));
        assert!(!range.contains(75.01));
        assert_eq!(
            rest,
            Logic::compile(&json!({"==": ["bar", {"var": "mbox.foo"}]})).unwrap()
        );
        let (range, rest) = split(json!({"<=": [0, alloc, 50]}));
        let range = range.unwrap();
        assert!(range.contains(0.0) && range.contains(50.0) && !range.contains(50.5));
        assert_eq!(rest, Logic::Literal(json!(true)));
        // Not at the top-level `and`: left to json-logic.
        let (range, _) = split(json!({"or": [{"<": [50, alloc]}, false]}));
        assert_eq!(range, None);
        // Whatever the split, the decision is the same for every allocation.
        let rule = json!({"and": [{"<": [25, alloc]}, {">": [75, alloc]}, {"var": "ok"}]});
        let whole = Logic::compile(&rule).unwrap();
        let (range, rest) = split(rule);
        for a in [0.0, 25.0, 25.01, 50.0, 74.99, 75.0, 99.99] {
            for ok in [true, false] {
                let data = json!({"allocation": a, "ok": ok});
                let parts = range.unwrap().contains(a) && rest.matches(&data);
                assert_eq!(whole.matches(&data), parts, "allocation {a}, ok {ok}");
            }
        }
    }
}

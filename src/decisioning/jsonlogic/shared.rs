//! Sub-conditions shared across rules: tested once per location and remembered.

use super::{AllocationRange, Logic, LogicError, Op, OpCode};
use serde_json::Value;

/// Results of shared sub-conditions for one set of variables (one mbox, view or page load).
pub struct Memo(Vec<std::cell::Cell<u8>>);

impl Memo {
    /// A memo with `slots` unknown results.
    pub fn new(slots: usize) -> Memo {
        Memo(vec![std::cell::Cell::new(0); slots])
    }

    /// The result remembered in `slot`.
    pub fn get(&self, slot: u32) -> Option<bool> {
        match self.0.get(slot as usize)?.get() {
            1 => Some(false),
            2 => Some(true),
            _ => None,
        }
    }

    /// Remembers `satisfied` in `slot`.
    pub fn set(&self, slot: u32, satisfied: bool) {
        if let Some(cell) = self.0.get(slot as usize) {
            cell.set(1 + u8::from(satisfied));
        }
    }
}

/// Gives every sub-condition that does not depend on the visitor's allocation a memo slot,
/// the same slot wherever it repeats: production artifacts repeat the same page and
/// parameter tests across dozens of rules, and a location then tests each only once.
#[derive(Default)]
pub struct SharedConditions {
    slots: std::collections::HashMap<String, u32>,
}

impl SharedConditions {
    /// Compiles a rule's condition into its allocation range and the rest, shared.
    pub fn compile_rule(
        &mut self,
        rule: &Value,
    ) -> Result<(Option<AllocationRange>, Logic), LogicError> {
        let (range, rest) = AllocationRange::split(Logic::compile(rule)?);
        Ok((range, self.share(rest)))
    }

    /// How many slots a `Memo` needs.
    pub fn slots(&self) -> usize {
        self.slots.len()
    }

    fn share(&mut self, logic: Logic) -> Logic {
        let Logic::Apply(OpCode(op), args) = logic else {
            return logic;
        };
        let args = if matches!(op, Op::And | Op::Or | Op::Not | Op::NotNot) {
            args.into_iter().map(|a| self.share(a)).collect()
        } else {
            args
        };
        let node = Logic::Apply(OpCode(op), args);
        if node.depends_on_allocation() {
            return node;
        }
        let next = self.slots.len() as u32;
        let slot = *self.slots.entry(format!("{node:?}")).or_insert(next);
        Logic::Memo(slot, Box::new(node))
    }
}

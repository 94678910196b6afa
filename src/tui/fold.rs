//! Folding of pretty-printed JSON in a tab: which blocks are folded, and moving over the
//! lines that stay visible.

use super::text::TabText;
use std::collections::BTreeMap;

/// The folded blocks of one tab: opening line → closing line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Folds {
    folded: BTreeMap<usize, usize>,
}

impl Folds {
    /// The closing line of the block folded at `line`, if `line` starts a folded block.
    pub fn folded_at(&self, line: usize) -> Option<usize> {
        self.folded.get(&line).copied()
    }

    /// How many blocks are folded.
    pub fn len(&self) -> usize {
        self.folded.len()
    }

    /// Whether nothing is folded.
    pub fn is_empty(&self) -> bool {
        self.folded.is_empty()
    }

    /// Folds the innermost block that holds `line` (or starts on it), or unfolds it when it
    /// is folded already; the line the view should then start on. `None`: no block there.
    pub fn toggle(&mut self, text: &TabText, line: usize) -> Option<usize> {
        if self.folded.remove(&line).is_some() {
            return Some(line);
        }
        let (open, close) = text.block_around(line)?;
        self.folded.insert(open, close);
        Some(open)
    }

    /// Folds every block that starts `depth` levels deep (1 = the document's members);
    /// unfolds everything when something is folded already. Whether it folded.
    pub fn toggle_all(&mut self, text: &TabText, depth: usize) -> bool {
        if !self.folded.is_empty() {
            self.folded.clear();
            return false;
        }
        self.folded = text.blocks_at_depth(depth).collect();
        true
    }

    /// Unfolds every block that hides `line` (a search hit must be seen).
    pub fn reveal(&mut self, line: usize) {
        self.folded
            .retain(|&open, &mut close| !(open < line && line <= close));
    }

    /// The outermost folded block hiding `line`, if any.
    fn hiding(&self, line: usize) -> Option<usize> {
        self.folded
            .range(..line)
            .find(|(_, &close)| line <= close)
            .map(|(&open, _)| open)
    }

    /// `line` itself when visible, else the start of the folded block that hides it.
    pub fn visible(&self, line: usize) -> usize {
        self.hiding(line).unwrap_or(line)
    }

    /// The visible line `steps` visible lines below `line`, stopping at the last one.
    pub fn down(&self, line: usize, steps: usize, len: usize) -> usize {
        let mut at = self.visible(line);
        for _ in 0..steps {
            let next = self.folded_at(at).unwrap_or(at) + 1;
            if next >= len {
                break;
            }
            at = next;
        }
        at
    }

    /// The visible line `steps` visible lines above `line`, stopping at the first one.
    pub fn up(&self, line: usize, steps: usize) -> usize {
        let mut at = self.visible(line);
        for _ in 0..steps {
            if at == 0 {
                break;
            }
            at = self.visible(at - 1);
        }
        at
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text() -> TabText {
        let json = serde_json::json!({"a": {"b": [1, 2], "c": 3}, "d": [4]});
        TabText::new(serde_json::to_string_pretty(&json).unwrap())
    }

    #[test]
    fn folding_hides_a_block_and_moving_skips_it() {
        let text = text();
        // 0 {  1 "a": {  2 "b": [  3 1,  4 2  5 ],  6 "c": 3  7 },  8 "d": [  9 4  10 ]  11 }
        assert_eq!(text.line(1).trim(), "\"a\": {");
        let mut folds = Folds::default();
        assert_eq!(
            folds.toggle(&text, 3),
            Some(2),
            "a line inside folds its block"
        );
        assert_eq!(folds.folded_at(2), Some(5));
        assert_eq!(folds.toggle(&text, 1), Some(1));
        assert_eq!(
            folds.down(0, 2, text.len()),
            8,
            "the folded `a` counts as one line"
        );
        assert_eq!(folds.up(8, 1), 1);
        assert_eq!(
            folds.visible(4),
            1,
            "hidden lines show as their outermost fold"
        );
        folds.reveal(4);
        assert!(folds.is_empty(), "a search hit unfolds what hides it");
        assert_eq!(folds.toggle(&text, 1), Some(1));
        assert_eq!(folds.toggle(&text, 1), Some(1), "toggling again unfolds");
        assert!(folds.is_empty());
    }

    #[test]
    fn fold_all_folds_the_members_and_unfolds_on_the_second_press() {
        let text = text();
        let mut folds = Folds::default();
        assert!(folds.toggle_all(&text, 1));
        assert_eq!(
            (folds.folded_at(1), folds.folded_at(8)),
            (Some(7), Some(10))
        );
        assert_eq!(folds.len(), 2);
        assert!(!folds.toggle_all(&text, 1));
        assert!(folds.is_empty());
        assert_eq!(folds.toggle(&TabText::new("plain".into()), 0), None);
    }
}

//! A tab's text: one string and where its lines start (no allocation per line).

/// Text split into lines once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TabText {
    text: String,
    starts: Vec<u32>,
    /// The JSON blocks (found when first folded): sorted by opening line.
    blocks: std::cell::OnceCell<Vec<Block>>,
}

/// A `{…}` or `[…]` spread over lines: where it opens and closes, and how deep it starts.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Block {
    open: u32,
    close: u32,
    depth: u32,
}

impl TabText {
    /// Indexes the lines of `text`.
    pub fn new(text: String) -> TabText {
        let mut starts = vec![0u32];
        starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        if text.ends_with('\n') || text.is_empty() {
            starts.pop();
        }
        TabText {
            text,
            starts,
            blocks: std::cell::OnceCell::new(),
        }
    }

    /// How many lines.
    pub fn len(&self) -> usize {
        self.starts.len()
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.starts.is_empty()
    }

    /// Line `i` (empty past the end).
    pub fn line(&self, i: usize) -> &str {
        self.lines(i, i).trim_end_matches('\n')
    }

    /// The whole text.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Lines `from..=to` as one string.
    pub fn lines(&self, from: usize, to: usize) -> &str {
        let Some(&start) = self.starts.get(from) else {
            return "";
        };
        let end = self
            .starts
            .get(to + 1)
            .map(|e| *e as usize - 1)
            .unwrap_or(self.text.len());
        &self.text[start as usize..end.max(start as usize)]
    }

    /// Blocks as pretty-printed JSON lays them out: a line ending in `{` or `[` opens one,
    /// the next line starting with `}` or `]` at the same nesting closes it.
    fn blocks(&self) -> &[Block] {
        self.blocks.get_or_init(|| {
            let mut blocks = Vec::new();
            let mut open: Vec<usize> = Vec::new();
            for i in 0..self.len() {
                let line = self.line(i).trim();
                if line.starts_with(['}', ']']) {
                    if let Some(at) = open.pop() {
                        let block: &mut Block = &mut blocks[at];
                        block.close = i as u32;
                    }
                }
                if line.ends_with(['{', '[']) {
                    open.push(blocks.len());
                    blocks.push(Block {
                        open: i as u32,
                        close: u32::MAX,
                        depth: open.len() as u32 - 1,
                    });
                }
            }
            blocks.retain(|b| b.close != u32::MAX);
            blocks
        })
    }

    /// The block that opens on `line`, else the innermost one holding it: (open, close).
    pub fn block_around(&self, line: usize) -> Option<(usize, usize)> {
        let blocks = self.blocks();
        let after = blocks.partition_point(|b| b.open as usize <= line);
        blocks[..after]
            .iter()
            .rev()
            .find(|b| line <= b.close as usize)
            .map(|b| (b.open as usize, b.close as usize))
    }

    /// The blocks that start `depth` levels deep: (open, close).
    pub fn blocks_at_depth(&self, depth: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.blocks()
            .iter()
            .filter(move |b| b.depth as usize == depth)
            .map(|b| (b.open as usize, b.close as usize))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexes_lines() {
        let t = TabText::new("a\nbc\n\nd".into());
        assert_eq!(t.len(), 4);
        assert_eq!(
            (t.line(0), t.line(1), t.line(2), t.line(3), t.line(9)),
            ("a", "bc", "", "d", "")
        );
        assert_eq!(TabText::new(String::new()).len(), 0);
        assert_eq!(TabText::new("x\n".into()).len(), 1);
    }
}

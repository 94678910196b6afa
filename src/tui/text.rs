//! A tab's text: one string and where its lines start (no allocation per line).

/// Text split into lines once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TabText {
    text: String,
    starts: Vec<u32>,
}

impl TabText {
    /// Indexes the lines of `text`.
    pub fn new(text: String) -> TabText {
        let mut starts = vec![0u32];
        starts.extend(text.match_indices('\n').map(|(i, _)| i as u32 + 1));
        if text.ends_with('\n') || text.is_empty() {
            starts.pop();
        }
        TabText { text, starts }
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
        let Some(&start) = self.starts.get(i) else {
            return "";
        };
        let end = self
            .starts
            .get(i + 1)
            .map(|e| *e as usize - 1)
            .unwrap_or(self.text.len());
        self.text[start as usize..end].trim_end_matches('\n')
    }

    /// The whole text.
    pub fn as_str(&self) -> &str {
        &self.text
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

//! Cutting a big scenario file into pieces at its `[[check]]` header lines, so the pieces can
//! be parsed at the same time. A cut is only a guess (a header line may sit inside a multi-line
//! string); whoever parses the pieces must fall back to the whole text when one fails.

/// Files shorter than this are parsed whole: cutting them gains nothing.
pub const MIN_PIECE_BYTES: usize = 64 * 1024;

/// Whether `line` is a `[[check]]` header as scenario files spell it.
pub fn is_check_header(line: &str) -> bool {
    line.trim_end() == "[[check]]"
}

/// `text` cut into pieces, each with its byte offset in `text`; together they are `text`. What
/// comes before the first `[[check]]` line is a piece of its own; every other piece starts with
/// a `[[check]]` line and is at least `min_bytes` long (but the last). A text with no such line
/// is one piece.
pub fn pieces(text: &str, min_bytes: usize) -> Vec<(usize, &str)> {
    let mut cuts = vec![0];
    let mut seen_header = false;
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        if is_check_header(line) {
            let last = cuts.last().copied().unwrap_or(0);
            let first = !seen_header && line_start > 0;
            if first || (seen_header && line_start - last >= min_bytes) {
                cuts.push(line_start);
            }
            seen_header = true;
        }
        line_start += line.len();
    }
    cuts.push(text.len());
    cuts.windows(2).map(|w| (w[0], &text[w[0]..w[1]])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "[target]\nserver = \"x\"\n\n[[check]]\nname = \"a\"\n[[check.expect]]\n\
        location = \"pageLoad\"\n\n[[check]]  \nname = \"b\"\n# [[check]]\n[[check]]\nname = \"c\"\n";

    #[test]
    fn pieces_start_at_check_headers_and_rejoin_to_the_text() {
        let all = pieces(TEXT, 1);
        let starts: Vec<&str> = all
            .iter()
            .map(|(_, p)| p.lines().next().unwrap_or(""))
            .collect();
        assert_eq!(
            starts,
            ["[target]", "[[check]]", "[[check]]  ", "[[check]]"]
        );
        for (offset, piece) in &all {
            assert_eq!(&TEXT[*offset..*offset + piece.len()], *piece);
        }
        assert_eq!(all.iter().map(|(_, p)| *p).collect::<String>(), TEXT);
    }

    #[test]
    fn pieces_after_the_first_are_at_least_the_minimum_long() {
        let all = pieces(TEXT, 40);
        let lengths: Vec<usize> = all.iter().map(|(_, p)| p.len()).collect();
        assert_eq!(lengths.len(), 3, "{all:?}");
        assert_eq!(all[0].1, "[target]\nserver = \"x\"\n\n");
        assert!(lengths[1] >= 40, "{all:?}");
        assert_eq!(pieces(TEXT, TEXT.len()).len(), 2);
        assert_eq!(pieces("[[check]]\nname = \"a\"\n", 1).len(), 1);
        assert_eq!(pieces("", 1), [(0, "")]);
    }
}

//! Text from a server made safe for a terminal: one line, control characters shown as visible
//! escapes (so no escape sequence a server sends can run), length capped.

/// The most characters [`one_line`] keeps.
pub const MAX_CHARS: usize = 500;

/// Whether a character would act on the terminal or reorder text instead of being shown:
/// C0 and C1 controls, DEL, and the bidirectional overrides and isolates.
fn is_unsafe(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` as one safe line: newlines, carriage returns and tabs become spaces, every other
/// control character its escape (`\u{1b}`), and past [`MAX_CHARS`] characters an ellipsis.
pub fn one_line(text: &str) -> String {
    escape(text, MAX_CHARS)
}

/// [`one_line`] without the length cap (for messages whose server parts are capped already).
pub fn one_line_uncapped(text: &str) -> String {
    escape(text, usize::MAX)
}

fn escape(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_CHARS * 2));
    for (count, c) in text.chars().enumerate() {
        if count == max_chars {
            out.push('…');
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if is_unsafe(c) => out.extend(c.escape_unicode()),
            c => out.push(c),
        }
    }
    out
}

/// Whether `text` has nothing a terminal would act on (what [`one_line`] guarantees).
pub fn is_safe(text: &str) -> bool {
    printable_ascii(text) || !text.chars().any(is_unsafe)
}

/// Whether `text` is all printable ASCII (safe), checked in blocks the compiler vectorizes:
/// a request log checks every line.
fn printable_ascii(text: &str) -> bool {
    text.as_bytes().chunks(32).all(|block| {
        block
            .iter()
            .fold(true, |all, byte| all & (b' '..=b'~').contains(byte))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_terminal_sequences_and_keeps_one_line() {
        let hostile = "bad\x1b]2;pwned\x07 request\r\nnext\u{9b}31m \u{202e}gnp.exe";
        let safe = one_line(hostile);
        assert!(is_safe(&safe), "{safe:?}");
        assert!(!safe.contains('\n') && !safe.contains('\r'));
        assert_eq!(
            safe,
            "bad\\u{1b}]2;pwned\\u{7} request  next\\u{9b}31m \\u{202e}gnp.exe"
        );
    }

    #[test]
    fn every_character_is_judged_as_the_character_check_judges_it() {
        for code in (0..0x3000).chain(0xfff0..0x1_0000) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            for text in [c.to_string(), format!("{}{c}", "a".repeat(40))] {
                assert_eq!(is_safe(&text), !text.chars().any(is_unsafe), "{code:#x}");
            }
        }
        assert!(printable_ascii(" ~ POST /rest/v1/delivery 200"));
        assert!(!printable_ascii("\x7f") && !printable_ascii("é"));
        assert!(!is_safe("\x7f") && !is_safe("\t") && is_safe("notifications ×2"));
    }

    #[test]
    fn caps_the_length_on_characters() {
        let long = "é".repeat(MAX_CHARS + 10);
        let safe = one_line(&long);
        assert_eq!(safe.chars().count(), MAX_CHARS + 1);
        assert!(safe.ends_with('…'));
        assert_eq!(one_line("plain ünïcode"), "plain ünïcode");
    }
}

//! `--snapshot --keys "…"`: a key script by the keymap's names, for tests, bug reports and the
//! README.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// The named keys (a word that is none of these and longer than one letter is typed).
const NAMED: &[(&str, KeyCode)] = &[
    ("tab", KeyCode::Tab),
    ("backtab", KeyCode::BackTab),
    ("enter", KeyCode::Enter),
    ("esc", KeyCode::Esc),
    ("space", KeyCode::Char(' ')),
    ("up", KeyCode::Up),
    ("down", KeyCode::Down),
    ("left", KeyCode::Left),
    ("right", KeyCode::Right),
    ("pgup", KeyCode::PageUp),
    ("pgdn", KeyCode::PageDown),
    ("home", KeyCode::Home),
    ("end", KeyCode::End),
    ("backspace", KeyCode::Backspace),
];

/// The key presses of a space-separated script: a single character is that key, a name from
/// the keymap (`tab`, `enter`, `esc`, `space`, `up`, `pgdn`…) is the named key, `C-x` is
/// Ctrl+x, `=word` types `word`, and another word is typed letter by letter.
pub fn script(text: &str) -> Result<Vec<KeyEvent>, String> {
    let mut keys = Vec::new();
    for word in text.split_whitespace() {
        let plain = |code| KeyEvent::new(code, KeyModifiers::NONE);
        if let Some(literal) = word.strip_prefix('=') {
            keys.extend(literal.chars().map(|c| plain(KeyCode::Char(c))));
        } else if let Some((_, code)) = NAMED.iter().find(|(name, _)| *name == word) {
            keys.push(plain(*code));
        } else if let Some(c) = word.strip_prefix("C-").filter(|c| c.chars().count() == 1) {
            let c = c.chars().next().unwrap_or('c');
            keys.push(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL));
        } else if word.chars().count() > 64 {
            return Err(format!("{word:?} is longer than 64 letters"));
        } else {
            keys.extend(word.chars().map(|c| plain(KeyCode::Char(c))));
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_letters_and_words() {
        let keys = script("a s H tab enter C-c =home hi").unwrap();
        let codes: Vec<KeyCode> = keys.iter().map(|k| k.code).collect();
        assert_eq!(
            codes,
            [
                KeyCode::Char('a'),
                KeyCode::Char('s'),
                KeyCode::Char('H'),
                KeyCode::Tab,
                KeyCode::Enter,
                KeyCode::Char('c'),
                KeyCode::Char('h'),
                KeyCode::Char('o'),
                KeyCode::Char('m'),
                KeyCode::Char('e'),
                KeyCode::Char('h'),
                KeyCode::Char('i'),
            ]
        );
        assert_eq!(keys[5].modifiers, KeyModifiers::CONTROL);
        assert!(script(&"x".repeat(65)).is_err());
    }
}

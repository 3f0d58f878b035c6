//! Crossterm key events → view actions. Pure: no terminal access.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::view::{Key, ViewAction};

/// The view action for a key event, if the view has one.
///
/// Arrows, Page Up/Down, Home/End, Enter, Space, Esc, `q`, `f`; `j`/`k` and `g`/`G` as in
/// `less`; Ctrl-C quits (raw mode turns it into a key rather than a signal). Key releases are
/// ignored so that terminals reporting them do not act twice.
pub fn map_key(event: &KeyEvent) -> Option<ViewAction> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = event.modifiers.contains(KeyModifiers::CONTROL);
    let key = match event.code {
        KeyCode::Char('c') if ctrl => Key::Quit,
        _ if ctrl => return None,
        KeyCode::Up | KeyCode::Char('k') => Key::Up,
        KeyCode::Down | KeyCode::Char('j') => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home | KeyCode::Char('g') => Key::Home,
        KeyCode::End | KeyCode::Char('G') => Key::End,
        KeyCode::Enter => Key::Enter,
        KeyCode::Char(' ') => Key::Space,
        KeyCode::Esc => Key::Esc,
        KeyCode::Char('q') => Key::Quit,
        KeyCode::Char('f') => Key::Follow,
        _ => return None,
    };
    Some(ViewAction::Key(key))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> Option<ViewAction> {
        map_key(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn maps_every_documented_key() {
        let cases = [
            (KeyCode::Up, Key::Up),
            (KeyCode::Char('k'), Key::Up),
            (KeyCode::Down, Key::Down),
            (KeyCode::Char('j'), Key::Down),
            (KeyCode::PageUp, Key::PageUp),
            (KeyCode::PageDown, Key::PageDown),
            (KeyCode::Home, Key::Home),
            (KeyCode::Char('g'), Key::Home),
            (KeyCode::End, Key::End),
            (KeyCode::Char('G'), Key::End),
            (KeyCode::Enter, Key::Enter),
            (KeyCode::Char(' '), Key::Space),
            (KeyCode::Esc, Key::Esc),
            (KeyCode::Char('q'), Key::Quit),
            (KeyCode::Char('f'), Key::Follow),
        ];
        for (code, key) in cases {
            assert_eq!(press(code), Some(ViewAction::Key(key)), "{code:?}");
        }
    }

    #[test]
    fn shifted_g_arrives_with_the_shift_modifier() {
        let event = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(map_key(&event), Some(ViewAction::Key(Key::End)));
    }

    #[test]
    fn ctrl_c_quits_and_other_ctrl_keys_do_nothing() {
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(map_key(&ctrl_c), Some(ViewAction::Key(Key::Quit)));
        let ctrl_q = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::CONTROL);
        assert_eq!(map_key(&ctrl_q), None);
    }

    #[test]
    fn unknown_keys_and_releases_are_ignored() {
        assert_eq!(press(KeyCode::Char('x')), None);
        assert_eq!(press(KeyCode::Tab), None);
        let mut release = KeyEvent::new(KeyCode::Char('q'), KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(map_key(&release), None);
    }
}

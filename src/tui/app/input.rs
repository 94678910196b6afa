//! What the keyboard types into: prompts (QA link, trace token, search, add location), the QA
//! link picker, the overrides form and the message log.

use super::*;
use crate::tui::overrides::FormKey;

impl App {
    fn picked(&mut self, key: &KeyEvent, mut selected: usize) -> Vec<Effect> {
        let picked = super::super::qa_pick::key(&self.qa_links, &mut selected, key);
        self.input = Input::Normal;
        match picked {
            super::super::qa_pick::Picked::Moving => self.input = Input::QaPick(selected),
            super::super::qa_pick::Picked::Cancel => {}
            super::super::qa_pick::Picked::Paste => self.input = Input::QaUrl(String::new()),
            super::super::qa_pick::Picked::Leave => self.leave_qa_mode(),
            super::super::qa_pick::Picked::Link(link) => match qa_mode_from_url(&link.url) {
                Ok(qa) => {
                    self.set_qa_mode(Some(qa));
                    self.set_status(format!(
                        "QA mode: {} · {} (p prefetches it)",
                        link.activity_name.as_str().unwrap_or("?"),
                        link.experience_name.as_str().unwrap_or("?")
                    ));
                }
                Err(e) => self.set_status(format!("QA link: {e}")),
            },
        }
        if let Some(qa) = &self.spec.qa_mode {
            qa.token.iter().for_each(|t| crate::log::keep_secret(t));
        }
        Vec::new()
    }

    /// Leaves QA mode: the server keeps a session in QA, so leaving takes a new one.
    fn leave_qa_mode(&mut self) {
        let was = self.spec.qa_mode.is_some()
            || self
                .custom_request
                .as_ref()
                .is_some_and(|r| r.qa_mode.is_some());
        self.set_qa_mode(None);
        if was {
            self.new_session();
            self.set_status("left QA mode: a new session, p prefetches live");
        } else {
            self.set_status("not in QA mode");
        }
    }

    fn form_key(&mut self, key: &KeyEvent, mut form: Form) -> Vec<Effect> {
        match form.key(key) {
            FormKey::Editing => {
                self.input = Input::Overrides(form);
                Vec::new()
            }
            FormKey::Cancel => {
                self.set_status("overrides unchanged");
                Vec::new()
            }
            FormKey::Apply(overrides) => {
                if let Some(token) = &overrides.property_token {
                    crate::log::keep_secret(token);
                }
                let clock_changed = overrides.clock != self.overrides.clock;
                self.overrides = *overrides;
                self.next_request_changed();
                let summary = self.overrides.summary();
                self.set_status(if summary.is_empty() {
                    "no overrides: p prefetches as configured".to_string()
                } else {
                    format!("overrides: {summary} (p prefetches with them)")
                });
                if clock_changed {
                    vec![Effect::SetClock(self.overrides.clock.or(self.emulator_now))]
                } else {
                    Vec::new()
                }
            }
        }
    }

    fn log_key(&mut self, key: &KeyEvent, up: usize) {
        let last = (self.log.len() + self.log_entries.len()).saturating_sub(1);
        self.input = match key.code {
            KeyCode::Up | KeyCode::Char('k') => Input::Log((up + 1).min(last)),
            KeyCode::Down | KeyCode::Char('j') => Input::Log(up.saturating_sub(1)),
            KeyCode::PageUp => Input::Log((up + 10).min(last)),
            KeyCode::PageDown => Input::Log(up.saturating_sub(10)),
            _ => Input::Normal,
        };
    }

    /// A key while something is being typed or picked.
    pub(super) fn typed(&mut self, key: &KeyEvent) -> Vec<Effect> {
        match std::mem::replace(&mut self.input, Input::Normal) {
            Input::QaPick(selected) => return self.picked(key, selected),
            Input::Overrides(form) => return self.form_key(key, form),
            Input::Log(up) => {
                self.log_key(key, up);
                return Vec::new();
            }
            other => self.input = other,
        }
        let buffer = match &mut self.input {
            Input::QaUrl(b)
            | Input::Search(b)
            | Input::TraceToken(b)
            | Input::AddLocation(b)
            | Input::RecordName(b) => b,
            _ => {
                self.input = Input::Normal;
                return Vec::new();
            }
        };
        let mut effects = Vec::new();
        match key.code {
            KeyCode::Char(c) => buffer.push(c),
            KeyCode::Backspace => {
                buffer.pop();
            }
            KeyCode::Esc => {
                self.input = Input::Normal;
                self.prompt_error = None;
            }
            KeyCode::Enter => {
                let input = std::mem::replace(&mut self.input, Input::Normal);
                self.prompt_error = None;
                effects = self.entered(input);
            }
            _ => {}
        }
        effects
    }

    /// Enter in a prompt.
    fn entered(&mut self, input: Input) -> Vec<Effect> {
        match input {
            Input::RecordName(name) => return self.record(&name),
            Input::QaUrl(url) if url.trim().is_empty() => self.leave_qa_mode(),
            Input::QaUrl(url) => match qa_mode_from_url(url.trim()) {
                Ok(qa) => {
                    qa.token.iter().for_each(|t| crate::log::keep_secret(t));
                    self.set_qa_mode(Some(qa));
                    self.set_status("QA mode set: p prefetches with it");
                }
                Err(e) => {
                    // The prompt stays open with the text: fix it, or Esc.
                    self.prompt_error = Some(format!("QA link: {e}"));
                    self.set_status(format!("QA link: {e}"));
                    self.input = Input::QaUrl(url);
                }
            },
            Input::TraceToken(token) => {
                let token = token.trim();
                crate::log::keep_secret(token);
                let had = self.spec.trace_token.is_some();
                self.spec.trace_token = (!token.is_empty()).then(|| token.to_string());
                if let Some(r) = self.custom_request.as_mut() {
                    r.trace = self.spec.trace_token.as_ref().map(|t| TraceRequest {
                        authorization_token: Some(t.clone()),
                        ..Default::default()
                    });
                }
                self.set_status(match (&self.spec.trace_token, had) {
                    (Some(_), _) => "trace token set (masked): p prefetches with trace",
                    (None, true) => "trace token cleared: p prefetches without trace",
                    (None, false) => "no trace token given: nothing changed",
                });
                self.next_request_changed();
            }
            Input::AddLocation(text) => self.add_location(text.trim()),
            Input::Search(term) if !term.is_empty() => {
                self.find_next(&term, false);
                self.search = Some(term);
            }
            _ => {}
        }
        Vec::new()
    }

    /// `W` then a name: the latest answer as a scenario check, what is on screen expected.
    fn record(&mut self, name: &str) -> Vec<Effect> {
        let Some(last) = &self.last else {
            return Vec::new();
        };
        match crate::check::record_check(name, &self.scenario_target, &last.request, &last.response)
        {
            Ok(toml) => vec![Effect::WriteScenario {
                name: name.trim().to_string(),
                toml,
            }],
            Err(e) => {
                self.set_status(format!("record: {e}"));
                Vec::new()
            }
        }
    }
}

//! What `mboxscope serve` says about each request: kind (prefetch / execute / notifications ×N),
//! visitor, locations, status, what it counted per notification and latency, as a line of
//! text or of JSON.

use crate::counting::{Outcome, Verdict};
use crate::delivery::DeliveryRequest;
use serde_json::json;
use std::borrow::Cow;
use std::cell::OnceCell;
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How request lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// One line of text per request.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// What a delivery request was and what it counted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// "prefetch", "execute", "notifications ×N" (joined by " + ").
    pub kind: Cow<'static, str>,
    /// The visitor's id (tntId without its location hint, else another id).
    pub visitor: Option<String>,
    /// The mboxes (`view:NAME`, `views`, `pageLoad`) asked for.
    pub locations: Vec<String>,
    /// Per notification: its id and what was counted.
    pub notifications: Vec<(String, String)>,
}

impl Summary {
    /// What `request` asks for, and for whom.
    pub fn of(request: &DeliveryRequest) -> Summary {
        let notifications = request.notifications.as_deref().unwrap_or_default();
        let executed = request.execute.as_ref().map_or(0, |e| {
            usize::from(e.page_load.is_some()) + e.mboxes.as_ref().map_or(0, Vec::len)
        });
        let prefetched = request.prefetch.as_ref().map_or(0, |p| {
            usize::from(p.page_load.is_some())
                + p.mboxes.as_ref().map_or(0, Vec::len)
                + p.views.as_ref().map_or(0, Vec::len)
        });
        let mut locations = Vec::with_capacity(executed + prefetched + notifications.len());
        if let Some(execute) = &request.execute {
            if execute.page_load.is_some() {
                locations.push("pageLoad".to_string());
            }
            locations.extend(
                execute
                    .mboxes
                    .iter()
                    .flatten()
                    .filter_map(|m| m.name.clone()),
            );
        }
        if let Some(prefetch) = &request.prefetch {
            if prefetch.page_load.is_some() {
                locations.push("pageLoad".to_string());
            }
            locations.extend(
                prefetch
                    .mboxes
                    .iter()
                    .flatten()
                    .filter_map(|m| m.name.clone()),
            );
            for view in prefetch.views.iter().flatten() {
                locations.push(match &view.name {
                    Some(name) => format!("view:{name}"),
                    None => "views".to_string(),
                });
            }
        }
        if !notifications.is_empty() {
            for n in notifications {
                if let Some(name) = n.mbox.as_ref().and_then(|m| m.name.clone()) {
                    locations.push(name);
                } else if let Some(name) = n.view.as_ref().and_then(|v| v.name.clone()) {
                    locations.push(format!("view:{name}"));
                } else if n.page_load.is_some() {
                    locations.push("pageLoad".to_string());
                }
            }
            locations.dedup();
        }
        Summary {
            kind: Self::kind_of(request, notifications.len()),
            visitor: request.id.as_ref().and_then(|id| id.visitor_key()),
            locations,
            notifications: Vec::new(),
        }
    }

    /// "prefetch", "execute", "notifications ×N", joined by " + " when a request has several;
    /// made without allocating in the usual case of one.
    fn kind_of(request: &DeliveryRequest, notifications: usize) -> Cow<'static, str> {
        let notified = (notifications > 0).then(|| format!("notifications ×{notifications}"));
        let kinds: [Option<Cow<'static, str>>; 3] = [
            request.execute.as_ref().map(|_| "execute".into()),
            request.prefetch.as_ref().map(|_| "prefetch".into()),
            notified.map(Cow::Owned),
        ];
        let mut present = kinds.into_iter().flatten();
        match (present.next(), present.next()) {
            (None, _) => "nothing asked".into(),
            (Some(only), None) => only,
            (Some(first), Some(second)) => {
                let mut joined = format!("{first} + {second}");
                for more in present {
                    joined.push_str(" + ");
                    joined.push_str(&more);
                }
                joined.into()
            }
        }
    }

    /// Notes what the counting model made of notification `id` (or of the execute).
    pub fn counted(&mut self, id: &str, outcome: &Outcome) {
        self.notifications
            .push((id.to_string(), verdict_text(outcome)));
    }
}

/// "#3 counted", "#4 duplicate of #3", "#5 bot", "#6 no activity".
fn verdict_text(outcome: &Outcome) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (_, verdict) in &outcome.verdicts {
        let text = match verdict {
            Verdict::Counted => "counted".to_string(),
            Verdict::Duplicate { of } => format!("duplicate of #{of}"),
            Verdict::NotCounted(crate::counting::Reason::Bot) => "bot".to_string(),
        };
        if !parts.contains(&text) {
            parts.push(text);
        }
    }
    if parts.is_empty() {
        parts.push("no activity".to_string());
    }
    format!("#{} {}", outcome.seq, parts.join(", "))
}

/// Request lines a serving thread may hold for the logger thread; more are dropped (and counted).
const QUEUE: usize = 8192;
/// How long the logger thread lets lines gather after it is woken: one wake-up and one write per
/// batch, not per request.
const GATHER: Duration = Duration::from_millis(10);

/// How this process's request lines are written ([`set_format`]; text unless set).
static FORMAT: OnceLock<LogFormat> = OnceLock::new();

/// Sets how this process's request lines are written (the first call wins; before any line).
pub fn set_format(format: LogFormat) {
    let _ = FORMAT.set(format);
}

/// The lines one serving thread rendered that the logger thread has not written yet.
#[derive(Default)]
struct Pending {
    text: String,
    /// Per line in `text`: its place in the order of arrival and where it ends.
    ends: Vec<(u64, usize)>,
    dropped: u64,
}

type Buffer = Arc<Mutex<Pending>>;

thread_local! {
    /// This thread's buffer in the process's request log (made by its first line).
    static OWN_BUFFER: OnceCell<Buffer> = const { OnceCell::new() };
}

/// The request log of this process. Each serving thread renders its lines into a buffer of its
/// own, so a line costs no allocation, no hand-over and nothing freed on another thread; a thread
/// at a lower CPU priority, woken by a buffer's first line, lets lines gather, takes every buffer
/// and writes them to stdout in one write. A buffer holding [`QUEUE`] lines drops more (counted,
/// and said in the log), so a closed or unread stdout never blocks or stops the server. The lines
/// of a batch are written in the order they were sent, whichever thread sent them, so a request
/// logged before another was answered (a notification and its duplicate) comes first.
pub struct RequestLog {
    format: LogFormat,
    buffers: Mutex<Vec<Buffer>>,
    /// The next line's place in the order of arrival.
    next: AtomicU64,
    logger: std::thread::Thread,
    /// Batches written so far, for [`RequestLog::flush`].
    batches: (Mutex<u64>, Condvar),
}

impl RequestLog {
    /// The process's request log (started by the first call, writing in the format
    /// [`set_format`] set); `None` when its thread cannot start.
    pub fn get() -> Option<&'static RequestLog> {
        static LOG: OnceLock<Option<RequestLog>> = OnceLock::new();
        LOG.get_or_init(|| RequestLog::start(FORMAT.get().copied().unwrap_or_default()))
            .as_ref()
    }

    fn start(format: LogFormat) -> Option<RequestLog> {
        let logger = std::thread::Builder::new()
            .name("emulator-log".into())
            .spawn(|| {
                // Answers come first; a log that falls behind drops lines and says so.
                let _ = crate::priority::lower_this_thread(crate::priority::BACKGROUND_NICENESS);
                if let Some(log) = RequestLog::get() {
                    log.write_batches();
                }
            })
            .ok()?;
        Some(RequestLog::woken(format, logger.thread().clone()))
    }

    /// An empty log whose lines `logger` is woken to write.
    fn woken(format: LogFormat, logger: std::thread::Thread) -> RequestLog {
        RequestLog {
            format,
            buffers: Mutex::new(Vec::new()),
            next: AtomicU64::new(0),
            logger,
            batches: (Mutex::new(0), Condvar::new()),
        }
    }

    /// Renders `line` into this thread's buffer; a full buffer drops it. Never blocks on output.
    pub fn send(&self, line: Line) {
        OWN_BUFFER.with(|own| {
            let buffer = own.get_or_init(|| self.new_buffer());
            let Ok(mut pending) = buffer.lock() else {
                return;
            };
            if pending.ends.len() >= QUEUE {
                pending.dropped += 1;
                return;
            }
            let order = self.next.fetch_add(1, Ordering::AcqRel);
            line.render_into(self.format, &mut pending.text);
            pending.text.push('\n');
            let end = pending.text.len();
            pending.ends.push((order, end));
            let first = pending.ends.len() == 1;
            drop(pending);
            if first {
                self.logger.unpark();
            }
        });
    }

    /// A buffer for the calling thread, known to the logger thread.
    fn new_buffer(&self) -> Buffer {
        let buffer = Buffer::default();
        if let Ok(mut buffers) = self.buffers.lock() {
            buffers.push(buffer.clone());
        }
        buffer
    }

    /// Waits (at most `limit`) until every line rendered so far is written: at shutdown.
    pub fn flush(&self, limit: Duration) {
        let deadline = Instant::now() + limit;
        let (count, written) = &self.batches;
        let Ok(mut batches) = count.lock() else {
            return;
        };
        // A batch under way may have taken some buffers before the last lines: wait for the next.
        let wanted = *batches + 2;
        while *batches < wanted {
            self.logger.unpark();
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return;
            }
            batches = match written.wait_timeout(batches, left) {
                Ok((batches, _)) => batches,
                Err(_) => return,
            };
        }
    }

    /// The logger thread: waits to be woken, lets lines gather, writes a batch, counts it.
    fn write_batches(&self) {
        let mut batch = Batch::default();
        loop {
            // Lines logged while the last batch was taken wait in their buffers: no wake-up
            // comes for them (only a buffer's first line wakes this thread).
            if !batch.left_behind {
                std::thread::park();
            }
            std::thread::sleep(GATHER);
            let lines = batch.take(self);
            if !lines.is_empty() {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(lines.as_bytes()).and_then(|()| out.flush());
            }
            let (count, written) = &self.batches;
            if let Ok(mut batches) = count.lock() {
                *batches += 1;
                written.notify_all();
            }
        }
    }
}

/// The logger thread's batch: every buffer's lines, then written in their order of arrival.
#[derive(Default)]
struct Batch {
    /// The buffers' text, one after the other.
    taken: String,
    /// Per line: its order of arrival, where it starts and ends in `taken`.
    lines: Vec<(u64, usize, usize)>,
    /// The lines in order, then the line saying how many were dropped since the last batch.
    out: String,
    /// Lines logged after the batch began were left in their buffers for the next one.
    left_behind: bool,
}

impl Batch {
    /// Takes the lines logged before it began, from every buffer, and returns them in order of
    /// arrival. A line gets its number under its buffer's lock, so every line numbered below
    /// the count read first is in its buffer when the buffer is taken; later ones are left for
    /// the next batch, which keeps the order across batches too.
    fn take(&mut self, log: &RequestLog) -> &str {
        self.taken.clear();
        self.lines.clear();
        self.out.clear();
        self.left_behind = false;
        let mut lost = 0;
        let limit = log.next.load(Ordering::Acquire);
        // A serving thread never holds its buffer while it takes the list (only to add itself).
        let Ok(buffers) = log.buffers.lock() else {
            return &self.out;
        };
        for buffer in buffers.iter() {
            if let Ok(mut pending) = buffer.lock() {
                let count = pending.ends.partition_point(|&(order, _)| order < limit);
                let taken_end = count.checked_sub(1).map_or(0, |last| pending.ends[last].1);
                let base = self.taken.len();
                self.taken.push_str(&pending.text[..taken_end]);
                let mut start = base;
                for &(order, end) in &pending.ends[..count] {
                    self.lines.push((order, start, base + end));
                    start = base + end;
                }
                pending.text.drain(..taken_end);
                pending.ends.drain(..count);
                for (_, end) in pending.ends.iter_mut() {
                    *end -= taken_end;
                }
                self.left_behind |= !pending.ends.is_empty();
                lost += std::mem::take(&mut pending.dropped);
            }
        }
        drop(buffers);
        self.lines.sort_unstable_by_key(|&(order, _, _)| order);
        for &(_, start, end) in &self.lines {
            self.out.push_str(&self.taken[start..end]);
        }
        if lost > 0 {
            self.out.push_str(&dropped_line(lost, log.format));
            self.out.push('\n');
        }
        &self.out
    }
}

/// The line that says request lines were dropped.
fn dropped_line(lost: u64, format: LogFormat) -> String {
    let at = crate::clock::iso8601(crate::clock::now_ms());
    let message = format!("{lost} request lines dropped: the log fell behind the requests");
    match format {
        LogFormat::Text => format!("{at} {message}"),
        LogFormat::Json => json!({"time": at, "dropped": lost, "message": message}).to_string(),
    }
}

/// One request as the log shows it. It owns what it says, so the serving thread hands it over
/// as it is and the logger thread renders it.
pub struct Line {
    pub at_ms: i64,
    pub method: hyper::Method,
    pub path: Cow<'static, str>,
    /// The status, or what happened instead ("dropped (fault)").
    pub outcome: Cow<'static, str>,
    /// Why the request was refused (from an error reply), every notification rejected with it.
    pub refusal: Option<String>,
    pub summary: Option<Summary>,
    pub latency_ms: f64,
}

/// The message of an error reply's body (`{"status", "message"}`).
pub fn refusal(status: u16, body: &[u8]) -> Option<String> {
    if status < 400 {
        return None;
    }
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("message")?
        .as_str()
        .map(str::to_string)
}

impl Line {
    /// Appends the line in `format` (no newline) to `out`.
    pub fn render_into(&self, format: LogFormat, out: &mut String) {
        match format {
            LogFormat::Text => self.text_into(out),
            LogFormat::Json => out.push_str(&self.json()),
        }
    }

    /// The text line, written in place; what the server did not write itself (paths, names,
    /// ids, reasons) is made one safe line when it needs to be.
    fn text_into(&self, out: &mut String) {
        use std::fmt::Write;
        let start = out.len();
        crate::clock::write_iso8601(out, self.at_ms);
        for part in [self.method.as_str(), &self.path, &self.outcome] {
            out.push(' ');
            out.push_str(part);
        }
        if let Some(s) = &self.summary {
            out.push(' ');
            out.push_str(&s.kind);
            if let Some(visitor) = &s.visitor {
                out.push_str(" visitor ");
                out.push_str(visitor);
            }
            for (i, location) in s.locations.iter().enumerate() {
                out.push_str(if i == 0 { " [" } else { ", " });
                out.push_str(location);
            }
            if !s.locations.is_empty() {
                out.push(']');
            }
            for (i, (id, verdict)) in s.notifications.iter().enumerate() {
                let _ = write!(out, "{}{id}: {verdict}", if i == 0 { " {" } else { "; " });
            }
            if !s.notifications.is_empty() {
                out.push('}');
            }
        }
        if let Some(reason) = &self.refusal {
            out.push_str(" rejected: ");
            out.push_str(reason);
        }
        let hundredths = (self.latency_ms * 100.0).round().max(0.0) as u64;
        out.push(' ');
        out.push_str(itoa::Buffer::new().format(hundredths / 100));
        let cents = hundredths % 100;
        out.push_str(if cents < 10 { ".0" } else { "." });
        out.push_str(itoa::Buffer::new().format(cents));
        out.push_str(" ms");
        if !crate::safe_text::is_safe(&out[start..]) {
            let safe = crate::safe_text::one_line_uncapped(&out[start..]);
            out.truncate(start);
            out.push_str(&safe);
        }
    }

    fn json(&self) -> String {
        let mut value = json!({
            "time": crate::clock::iso8601(self.at_ms),
            "method": self.method.as_str(),
            "path": self.path,
            "status": self.outcome,
            "ms": (self.latency_ms * 100.0).round() / 100.0,
        });
        if let Some(s) = &self.summary {
            value["kind"] = json!(&*s.kind);
            value["visitor"] = json!(s.visitor);
            value["locations"] = json!(s.locations);
            value["notifications"] = s
                .notifications
                .iter()
                .map(|(id, verdict)| json!({"id": id, "verdict": verdict}))
                .collect();
        }
        if let Some(reason) = &self.refusal {
            value["rejected"] = json!(reason);
        }
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A delivery at the epoch answered 200 after `latency_ms`.
    fn answered_delivery(summary: Summary, latency_ms: f64) -> Line {
        Line {
            at_ms: 0,
            method: hyper::Method::POST,
            path: "/rest/v1/delivery".into(),
            outcome: "200".into(),
            refusal: None,
            summary: Some(summary),
            latency_ms,
        }
    }

    #[test]
    fn a_notification_request_reads_as_its_kind_visitor_and_verdicts() {
        let request: DeliveryRequest = serde_json::from_value(json!({
            "id": {"tntId": "abc.28_0"},
            "notifications": [
                {"id": "n1", "type": "display", "mbox": {"name": "home-hero"}},
                {"id": "n2", "type": "display", "mbox": {"name": "home-hero"}}
            ]
        }))
        .unwrap();
        let mut summary = Summary::of(&request);
        let first = Outcome {
            seq: 3,
            verdicts: vec![(None, Verdict::Counted)],
        };
        let again = Outcome {
            seq: 4,
            verdicts: vec![(None, Verdict::Duplicate { of: 3 })],
        };
        summary.counted("n1", &first);
        summary.counted("n2", &again);
        let line = answered_delivery(summary, 0.5);
        let render = |format| {
            let mut text = String::new();
            line.render_into(format, &mut text);
            text
        };
        let text = render(LogFormat::Text);
        assert_eq!(
            text,
            "1970-01-01T00:00:00.000Z POST /rest/v1/delivery 200 notifications ×2 visitor abc \
             [home-hero] {n1: #3 counted; n2: #4 duplicate of #3} 0.50 ms"
        );
        let json: serde_json::Value = serde_json::from_str(&render(LogFormat::Json)).unwrap();
        assert_eq!(json["notifications"][1]["verdict"], "#4 duplicate of #3");
        assert_eq!(json["kind"], "notifications ×2");
    }

    #[test]
    fn a_request_of_several_kinds_names_each_and_an_empty_one_says_so() {
        let kind = |request: serde_json::Value| {
            let request: DeliveryRequest = serde_json::from_value(request).unwrap();
            Summary::of(&request).kind.into_owned()
        };
        assert_eq!(
            kind(
                json!({"execute": {"pageLoad": {}}, "prefetch": {"views": [{}]},
                "notifications": [{"id": "n1", "type": "display"}]})
            ),
            "execute + prefetch + notifications ×1"
        );
        assert_eq!(
            kind(json!({"prefetch": {}, "notifications": []})),
            "prefetch"
        );
        assert_eq!(kind(json!({})), "nothing asked");
        let request: DeliveryRequest = serde_json::from_value(json!({
            "execute": {"pageLoad": {}, "mboxes": [{"name": "a"}]},
            "prefetch": {"views": [{"name": "home"}, {}], "mboxes": [{"name": "b"}]}
        }))
        .unwrap();
        assert_eq!(
            Summary::of(&request).locations,
            ["pageLoad", "a", "b", "view:home", "views"]
        );
    }

    #[test]
    fn a_hostile_visitor_or_path_is_written_as_one_safe_line_after_the_lines_before() {
        let summary = Summary {
            kind: "prefetch".into(),
            visitor: Some("evil\x1b]2;pwned\x07\nnext".into()),
            locations: vec!["home\rhero".into()],
            notifications: Vec::new(),
        };
        let line = answered_delivery(summary, 1.005);
        let mut batch = String::from("earlier line\n");
        line.render_into(LogFormat::Text, &mut batch);
        let (earlier, written) = batch.split_once('\n').unwrap();
        assert_eq!(earlier, "earlier line");
        assert!(crate::safe_text::is_safe(written), "{written:?}");
        assert!(!written.contains('\n'), "{written:?}");
        assert!(
            written.ends_with(" 1.00 ms") || written.ends_with(" 1.01 ms"),
            "{written:?}"
        );
        assert!(written.contains("visitor evil"), "{written:?}");
    }

    #[test]
    fn a_batch_writes_the_lines_of_several_threads_in_the_order_they_were_sent() {
        let log = RequestLog::woken(LogFormat::Text, std::thread::current());
        let visitor = |name: &str| {
            answered_delivery(
                Summary {
                    kind: "prefetch".into(),
                    visitor: Some(name.into()),
                    ..Summary::default()
                },
                0.5,
            )
        };
        // This thread's buffer is listed first, another thread's second.
        log.send(visitor("first"));
        std::thread::scope(|s| {
            s.spawn(|| log.send(visitor("second")));
        });
        log.send(visitor("third"));
        let mut batch = Batch::default();
        let written: Vec<&str> = batch
            .take(&log)
            .lines()
            .map(|line| line.split(" visitor ").nth(1).unwrap())
            .collect();
        assert_eq!(
            written,
            ["first 0.50 ms", "second 0.50 ms", "third 0.50 ms"]
        );
        assert_eq!(batch.take(&log), "", "a batch takes the lines once");
    }

    #[test]
    fn a_line_numbered_after_a_batch_began_waits_for_the_next_batch() {
        let log = RequestLog::woken(LogFormat::Text, std::thread::current());
        log.send(answered_delivery(Summary::default(), 0.5));
        // Another thread's line that got its number after this batch read the count.
        let late = Buffer::default();
        {
            let mut pending = late.lock().unwrap();
            pending.text.push_str("mid line\nlate line\n");
            pending.ends.push((1, "mid line\n".len()));
            pending.ends.push((5, "mid line\nlate line\n".len()));
        }
        log.buffers.lock().unwrap().push(late.clone());
        log.next.store(2, Ordering::Release);
        let mut batch = Batch::default();
        let first = batch.take(&log).to_string();
        assert_eq!(first.lines().count(), 2, "{first}");
        assert!(first.ends_with("\nmid line\n"), "{first}");
        assert!(batch.left_behind);
        log.next.store(6, Ordering::Release);
        assert_eq!(batch.take(&log), "late line\n");
        assert!(!batch.left_behind);
        assert!(late.lock().unwrap().text.is_empty());
    }
}

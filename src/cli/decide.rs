//! `mboxscope decide`: what an artifact decides for a request, offline.

use super::common::{Failure, TargetArgs};
use crate::clock::now_ms;
use crate::decisioning::explain::{explain, render_text};
use crate::decisioning::{Artifact, DecideOptions, Engine};
use crate::delivery::wire::WriteJson;
use crate::delivery::{DeliveryRequest, Geo};
use clap::Args;
use serde_json::json;
use std::io::{BufRead, BufWriter, Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

/// Flags of `decide` (`--client`, `--org-id`, `--session-id`, `--location-hint` are the global ones).
#[derive(Debug, Clone, Args)]
pub struct DecideArgs {
    /// The rules artifact (rules.json, or rules.bin with --org-id).
    #[arg(long)]
    pub artifact: PathBuf,
    /// The DeliveryRequest: a file, or - for standard input (the default).
    #[arg(long)]
    pub request: Option<String>,
    /// One DeliveryRequest per line in, one result per line out, streaming.
    #[arg(long)]
    pub jsonl: bool,
    /// The clock, in milliseconds since the epoch.
    #[arg(long)]
    pub now: Option<i64>,
    /// A geo lookup result: {"countryCode","stateCode","city","latitude","longitude"}.
    #[arg(long)]
    pub geo: Option<String>,
    /// Explain the decision instead: every rule considered per location, each condition with
    /// the value it read, the allocation, the winner.
    #[arg(long, conflicts_with = "jsonl")]
    pub explain: bool,
    /// With --explain: the explanation as JSON.
    #[arg(long, requires = "explain")]
    pub json: bool,
}

/// Loads an artifact file into an engine.
pub fn load_engine(path: &PathBuf, org_id: Option<&str>) -> Result<Engine, Failure> {
    let started = Instant::now();
    let bytes =
        std::fs::read(path).map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let artifact = Artifact::load(&bytes, org_id)
        .map_err(|e| Failure::usage(format!("{}: {e}", path.display())))?;
    let load_ms = started.elapsed().as_secs_f64() * 1000.0;
    Ok(Engine::new(
        Arc::new(artifact),
        &path.display().to_string(),
        now_ms(),
        load_ms,
    ))
}

/// Runs `decide`.
pub fn run(target: &TargetArgs, args: &DecideArgs) -> Result<(), Failure> {
    let engine = load_engine(&args.artifact, target.org_id.as_deref())?;
    let client = target
        .client_code
        .clone()
        .or_else(|| engine.artifact().client_code().map(str::to_string))
        .ok_or_else(|| {
            Failure::usage("the artifact names no client code (meta.clientCode): give --client")
        })?;
    let geo = match &args.geo {
        Some(text) => Some(
            serde_json::from_str::<Geo>(text).map_err(|e| Failure::usage(format!("--geo: {e}")))?,
        ),
        None => None,
    };
    let options = |now: i64| DecideOptions {
        session_id: target.session_id.clone(),
        geo: geo.clone(),
        ..DecideOptions::sdk(client.clone(), now)
    };
    let input: Box<dyn BufRead> = match args.request.as_deref() {
        None | Some("-") => Box::new(std::io::stdin().lock()),
        Some(path) => Box::new(std::io::BufReader::new(
            std::fs::File::open(path).map_err(|e| Failure::usage(format!("{path}: {e}")))?,
        )),
    };
    let stdout = std::io::stdout();
    let mut out = BufWriter::with_capacity(1 << 16, stdout.lock());
    let write_err = |e: std::io::Error| Failure::usage(format!("writing the output: {e}"));
    if args.jsonl {
        // Bytes, not text: a line that is not UTF-8 is one bad request, not the end of the stream.
        let mut line = Vec::new();
        let mut written = Vec::new();
        let mut input = input;
        loop {
            line.clear();
            if input
                .read_until(b'\n', &mut line)
                .map_err(|e| Failure::usage(format!("reading requests: {e}")))?
                == 0
            {
                break;
            }
            if line.trim_ascii().is_empty() {
                continue;
            }
            written.clear();
            let encoded = match crate::delivery::wire::from_json::<DeliveryRequest>(&line) {
                Ok(request) => {
                    let result =
                        decide_one(&engine, &request, &options(args.now.unwrap_or_else(now_ms)));
                    result.write_json(&mut written)
                }
                Err(e) => serde_json::to_writer(
                    &mut written,
                    &json!({ "error": format!("not a DeliveryRequest: {e}") }),
                ),
            };
            encoded.map_err(|e| write_err(e.into()))?;
            written.push(b'\n');
            out.write_all(&written).map_err(write_err)?;
        }
    } else {
        let mut text = String::new();
        let mut input = input;
        input
            .read_to_string(&mut text)
            .map_err(|e| Failure::usage(format!("reading the request: {e}")))?;
        let request: DeliveryRequest = serde_json::from_str(&text)
            .map_err(|e| Failure::usage(format!("not a DeliveryRequest: {e}")))?;
        let options = options(args.now.unwrap_or_else(now_ms));
        if args.explain {
            let explanation = explain(engine.artifact(), &request, &options);
            if args.json {
                serde_json::to_writer_pretty(&mut out, &explanation)
                    .map_err(|e| write_err(e.into()))?;
                out.write_all(b"\n").map_err(write_err)?;
            } else {
                out.write_all(render_text(&explanation).as_bytes())
                    .map_err(write_err)?;
            }
        } else {
            let result = decide_one(&engine, &request, &options);
            serde_json::to_writer_pretty(&mut out, &result).map_err(|e| write_err(e.into()))?;
            out.write_all(b"\n").map_err(write_err)?;
        }
    }
    out.flush().map_err(write_err)
}

/// One line of output: `{"response": …, "notifications": […]}`.
#[derive(serde::Serialize)]
pub struct DecideOutput {
    pub response: crate::delivery::DeliveryResponse,
    pub notifications: Vec<crate::delivery::Notification>,
}

/// Written as `serde_json` writes it, the response's wire structs by [`WriteJson`] (field
/// names escaped at compile time, prepared parts as stored).
impl WriteJson for DecideOutput {
    fn write_json(&self, out: &mut Vec<u8>) -> serde_json::Result<()> {
        out.extend_from_slice(b"{\"response\":");
        self.response.write_json(out)?;
        out.extend_from_slice(b",\"notifications\":");
        self.notifications.write_json(out)?;
        out.push(b'}');
        Ok(())
    }
}

/// Decides one request.
pub fn decide_one(
    engine: &Engine,
    request: &DeliveryRequest,
    options: &DecideOptions,
) -> DecideOutput {
    let decision = engine.decide(request, options);
    let notifications = decision
        .notification_request
        .and_then(|r| r.notifications)
        .unwrap_or_default();
    DecideOutput {
        response: decision.response,
        notifications,
    }
}

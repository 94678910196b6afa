//! `mboxscope prefetch` and `mboxscope execute`: one call, printed as the SDKs return it.

use super::common::{Failure, LocationArgs, TargetArgs};
use crate::delivery::Mode;

/// How many times an execute is tried when its answer is lost.
const EXECUTE_ATTEMPTS: u32 = 4;

/// Sends `request`; an execute whose answer was lost (connection error, timeout, 5xx) is sent
/// again with the same impressionId, so it is counted once and not lost.
async fn send_with_retries(
    client: &crate::client::TargetClient,
    request: crate::delivery::DeliveryRequest,
    visitor: &crate::client::Visitor,
    mode: Mode,
) -> Result<crate::client::TargetResponse, crate::client::ClientError> {
    let policy = crate::ledger::deliver::RetryPolicy::default();
    let attempts = if mode == Mode::Execute {
        EXECUTE_ATTEMPTS
    } else {
        1
    };
    let mut attempt = 1;
    loop {
        match client.send(request.clone(), visitor).await {
            Err(e) if e.is_retryable() && attempt < attempts => {
                attempt += 1;
                tokio::time::sleep(policy.delay(attempt)).await;
            }
            outcome => return outcome,
        }
    }
}

/// Runs a prefetch or execute and prints the SDK-style result as JSON.
/// The request's secrets (trace, QA and property tokens) are masked unless `reveal`.
pub async fn run(
    target: &TargetArgs,
    locations: &LocationArgs,
    mode: Mode,
    reveal: bool,
) -> Result<(), Failure> {
    if locations.is_empty() {
        return Err(Failure::usage(
            "nothing to ask for: give --mbox NAME, --view NAME, --all-views or --page-load",
        ));
    }
    if mode == Mode::Execute && (!locations.views.is_empty() || locations.all_views) {
        return Err(Failure::usage(
            "views can only be prefetched (Target has no execute for views)",
        ));
    }
    let profile = target.resolve()?;
    let client = target.client(&profile)?;
    let mut spec = target.request_spec(&profile, mode)?;
    locations.apply(&mut spec)?;
    let mut request = spec.build(crate::ids::uuid_string());
    if mode == Mode::Execute {
        // Execute counts at once: a retry with the same impressionId counts once.
        request.impression_id = Some(crate::ids::uuid_string());
    }
    let mut ledger = target.ledger(&client)?;
    let visitor = target.visitor(&profile)?;
    let response = send_with_retries(&client, request, &visitor, mode)
        .await
        .map_err(Failure::target)?;
    let event = crate::ledger::record::response_event(
        mode,
        &response.request,
        &response.session_id,
        &response.response,
    );
    ledger.record(vec![event]).map_err(Failure::usage)?;
    let mut result = response.sdk_result();
    if !reveal {
        crate::tui::secrets::mask_sdk_result(&mut result);
    }
    let text = serde_json::to_string_pretty(&result).map_err(Failure::target)?;
    println!("{text}");
    Ok(())
}

/// Flags of `prefetch` and `execute`: the locations, and whether to print secrets.
#[derive(Debug, Clone, clap::Args)]
pub struct PrefetchArgs {
    #[command(flatten)]
    pub locations: LocationArgs,
    /// Print the request's trace, QA and property tokens in clear (masked by default: the
    /// output is saved and attached to tickets).
    #[arg(long)]
    pub reveal: bool,
}

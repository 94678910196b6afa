// Adobe's @adobe/target-nodejs-sdk against the mboxscope emulator, unchanged.
// Usage: node node_sdk.js BASE_URL   (NODE_PATH must reach @adobe/target-nodejs-sdk)
// Prints one JSON object with what the SDK saw; the Rust test checks it against /report.
const TargetClient = require("@adobe/target-nodejs-sdk");
const crypto = require("crypto");

const base = process.argv[2];
const serverDomain = base.replace("http://", "");
const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36";
const quiet = { debug() {}, error() {} };
const context = { channel: "web", userAgent: BROWSER, address: { url: "https://shop.example.com/" } };

function create(extra) {
  return new Promise((resolve) => {
    const client = TargetClient.create({
      client: "mboxscopedemo",
      organizationId: "MBOXSCOPE0000000000000000@AdobeOrg",
      serverDomain,
      secure: false,
      logger: quiet,
      timeout: 5000,
      ...extra,
      events: { clientReady: () => resolve(client) },
    });
    if (!extra.decisioningMethod || extra.decisioningMethod === "server-side") resolve(client);
  });
}

// JSON objects have no order: compare with keys sorted.
function canonical(value) {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === "object") {
    return Object.keys(value).sort().reduce((out, k) => ({ ...out, [k]: canonical(value[k]) }), {});
  }
  return value;
}

async function main() {
  const server = await create({});
  const first = await server.getOffers({
    request: { context, prefetch: { mboxes: [{ name: "home-hero", index: 1 }, { name: "product-recs", index: 2, parameters: { category: "bags" } }] } },
  });
  const mboxes = first.response.prefetch.mboxes;
  const notifications = mboxes.map((m) => ({
    id: crypto.randomUUID(),
    impressionId: crypto.randomUUID(),
    type: "display",
    timestamp: Date.now(),
    mbox: { name: m.name, state: m.state },
    tokens: m.options.map((o) => o.eventToken).filter(Boolean),
  }));
  const sent = await server.sendNotifications({
    request: { context, id: first.response.id, notifications },
    targetCookie: first.targetCookie.value,
  });
  const executed = await server.getOffers({
    request: { context, execute: { mboxes: [{ name: "home-hero", index: 1 }] } },
    targetCookie: first.targetCookie.value,
  });

  // On device, with the artifact the emulator serves: same decisions for the same visitors.
  const device = await create({ decisioningMethod: "on-device", artifactLocation: `${base}/rules.json`, pollingInterval: 0, telemetryEnabled: false });
  const comparisons = [];
  for (let i = 0; i < 20; i++) {
    const request = {
      id: { tntId: `visitor-${i}` },
      context,
      prefetch: { mboxes: [{ name: "home-hero", index: 1 }, { name: "product-recs", index: 2, parameters: { category: i % 2 ? "shoes" : "bags" } }], views: [{ name: "home" }] },
    };
    const local = await device.getOffers({ request, sessionId: `s${i}` });
    const remote = await server.getOffers({ request, sessionId: `s${i}` });
    const summary = (r) => JSON.stringify(canonical([
      (r.response.prefetch.mboxes || []).map((m) => [m.name, (m.options || []).map((o) => [o.content, o.eventToken])]),
      (r.response.prefetch.views || []).map((v) => [v.name, (v.options || []).map((o) => [o.content, o.eventToken])]),
    ]));
    comparisons.push({ visitor: request.id.tntId, same: summary(local) === summary(remote), local: summary(local), remote: summary(remote), method: local.meta.decisioningMethod });
  }
  console.log(JSON.stringify({
    tntId: first.response.id.tntId,
    locationHintCookie: first.targetLocationHintCookie || null,
    sent: notifications.map((n) => n.id),
    acked: (sent.response.notifications || []).map((n) => n.id),
    executeTntId: executed.response.id.tntId,
    executeOptions: (executed.response.execute.mboxes[0].options || []).length,
    comparisons,
  }));
  process.exit(0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});

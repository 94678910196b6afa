// An application on Adobe's @adobe/target-nodejs-sdk whose traffic goes through `mboxscope proxy`.
// Usage: node proxy_app.js PROXY_URL   (NODE_PATH must reach @adobe/target-nodejs-sdk)
// Five visitors prefetch home-hero; the first three get a display notification, the other two
// never do (the counting bug the proxy's report must name). Prints one JSON object.
const TargetClient = require("@adobe/target-nodejs-sdk");
const crypto = require("crypto");

const BROWSER = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_3) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/80.0.3987.163 Safari/537.36";
const context = { channel: "web", userAgent: BROWSER };

async function main(proxyUrl) {
  const client = TargetClient.create({
    client: "mboxscopedemo",
    organizationId: "MBOXSCOPE0000000000000000@AdobeOrg",
    serverDomain: proxyUrl.replace("http://", ""),
    secure: false,
    timeout: 5000,
    logger: { debug() {}, error() {} },
  });
  const visitors = [], notified = [], sent = [], acked = [];
  for (let i = 0; i < 5; i++) {
    const offers = await client.getOffers({
      request: { context, prefetch: { mboxes: [{ name: "home-hero", index: 1 }] } },
    });
    const response = offers.response;
    visitors.push(response.id.tntId);
    if (i >= 3) continue;
    const mbox = response.prefetch.mboxes[0];
    const notification = {
      id: crypto.randomUUID(),
      impressionId: crypto.randomUUID(),
      type: "display",
      timestamp: Date.now(),
      mbox: { name: mbox.name, state: mbox.state },
      tokens: (mbox.options || []).map((o) => o.eventToken).filter(Boolean),
    };
    const result = await client.sendNotifications({
      request: { context, id: response.id, notifications: [notification] },
      targetCookie: offers.targetCookie.value,
    });
    notified.push(response.id.tntId);
    sent.push(notification.id);
    acked.push(...(result.response.notifications || []).map((n) => n.id));
  }
  console.log(JSON.stringify({ visitors, notified, sent, acked }));
  process.exit(0);
}

main(process.argv[2]).catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});

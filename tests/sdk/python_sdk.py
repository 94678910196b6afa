"""Adobe's target-python-sdk against the mboxscope emulator, unchanged.

Usage: python python_sdk.py BASE_URL   (BASE_URL = http://127.0.0.1:PORT)
Prints one JSON object with what the SDK saw; the Rust test checks it against /report.
"""
import json
import sys
import time
import uuid

from delivery_api_client import (
    Address,
    ChannelType,
    Context,
    DeliveryRequest,
    ExecuteRequest,
    MboxRequest,
    MetricType,
    Notification,
    NotificationMbox,
    PrefetchRequest,
)
from target_python_sdk import TargetClient

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def main(base_url):
    domain = base_url.replace("http://", "")
    client = TargetClient.create({
        "client": "mboxscopedemo",
        "organization_id": "MBOXSCOPE0000000000000000@AdobeOrg",
        "server_domain": domain,
        "secure": False,
        "timeout": 5000,
    })
    context = Context(channel=ChannelType.WEB, user_agent=BROWSER, address=Address(url="https://shop.example.com/"))
    prefetch = PrefetchRequest(mboxes=[MboxRequest(name="home-hero", index=1),
                                       MboxRequest(name="product-recs", index=2, parameters={"category": "shoes"})])
    first = client.get_offers({"request": DeliveryRequest(context=context, prefetch=prefetch)})
    response = first.get("response")
    mboxes = response.prefetch.mboxes
    notifications = []
    for mbox in mboxes:
        tokens = [o.event_token for o in (mbox.options or []) if o.event_token]
        notifications.append(Notification(
            id=str(uuid.uuid4()),
            impression_id=str(uuid.uuid4()),
            type=MetricType.DISPLAY,
            timestamp=int(time.time() * 1000),
            mbox=NotificationMbox(name=mbox.name, state=mbox.state),
            tokens=tokens,
        ))
    sent = client.send_notifications({
        "request": DeliveryRequest(context=context, id=response.id, notifications=notifications),
        "target_cookie": first.get("target_cookie")["value"],
    })
    acked = [n.id for n in (sent.get("response").notifications or [])]
    # Execute counts by itself; the second call reuses the SDK's cookie.
    executed = client.get_offers({
        "request": DeliveryRequest(context=context, execute=ExecuteRequest(mboxes=[MboxRequest(name="home-hero", index=1)])),
        "target_cookie": first.get("target_cookie")["value"],
    })
    print(json.dumps({
        "tnt_id": response.id.tnt_id,
        "location_hint_cookie": first.get("target_location_hint_cookie"),
        "prefetched": [m.name for m in mboxes],
        "sent": [n.id for n in notifications],
        "acked": acked,
        "execute_tnt_id": executed.get("response").id.tnt_id,
        "execute_options": len(executed.get("response").execute.mboxes[0].options or []),
    }))


if __name__ == "__main__":
    main(sys.argv[1])

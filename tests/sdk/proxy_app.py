"""An application on Adobe's target-python-sdk whose traffic goes through `mboxscope proxy`.

Usage: python proxy_app.py PROXY_URL   (PROXY_URL = http://127.0.0.1:PORT)
Five visitors prefetch home-hero; the first three get a display notification, the other two
never do (the counting bug the proxy's report must name). Prints one JSON object.
"""
import json
import sys
import time
import uuid

from delivery_api_client import (
    ChannelType,
    Context,
    DeliveryRequest,
    MboxRequest,
    MetricType,
    Notification,
    NotificationMbox,
    PrefetchRequest,
)
from target_python_sdk import TargetClient

BROWSER = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"


def main(proxy_url):
    client = TargetClient.create({
        "client": "mboxscopedemo",
        "organization_id": "MBOXSCOPE0000000000000000@AdobeOrg",
        "server_domain": proxy_url.replace("http://", ""),
        "secure": False,
        "timeout": 5000,
    })
    context = Context(channel=ChannelType.WEB, user_agent=BROWSER)
    visitors, notified, sent, acked = [], [], [], []
    for i in range(5):
        prefetch = PrefetchRequest(mboxes=[MboxRequest(name="home-hero", index=1)])
        offers = client.get_offers({"request": DeliveryRequest(context=context, prefetch=prefetch)})
        response = offers.get("response")
        visitors.append(response.id.tnt_id)
        if i >= 3:
            continue
        mbox = response.prefetch.mboxes[0]
        notification = Notification(
            id=str(uuid.uuid4()),
            impression_id=str(uuid.uuid4()),
            type=MetricType.DISPLAY,
            timestamp=int(time.time() * 1000),
            mbox=NotificationMbox(name=mbox.name, state=mbox.state),
            tokens=[o.event_token for o in (mbox.options or []) if o.event_token],
        )
        result = client.send_notifications({
            "request": DeliveryRequest(context=context, id=response.id, notifications=[notification]),
            "target_cookie": offers.get("target_cookie")["value"],
        })
        notified.append(response.id.tnt_id)
        sent.append(notification.id)
        acked.extend(n.id for n in (result.get("response").notifications or []))
    print(json.dumps({"visitors": visitors, "notified": notified, "sent": sent, "acked": acked}))


if __name__ == "__main__":
    main(sys.argv[1])

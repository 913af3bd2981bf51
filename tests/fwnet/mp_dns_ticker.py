# Resolves NAME through net.dns against a DNS server at 127.0.0.1:PORT while a task ticks every 10 ms, and
# prints one JSON line: the address (or the error) and how many ticks happened during the lookup. With a
# blocking lookup (socket.getaddrinfo) the ticker could not run at all meanwhile.
#
#   micropython tests/fwnet/mp_dns_ticker.py PORT NAME
import sys

sys.path.insert(0, "firmware")
import asyncio  # noqa: E402
import json  # noqa: E402

from net.dns import DNSError, Resolver  # noqa: E402

ticks = [0]


async def ticker():
    while True:
        ticks[0] += 1
        await asyncio.sleep_ms(10)


async def main():
    asyncio.create_task(ticker())
    await asyncio.sleep_ms(20)
    resolver = Resolver(("127.0.0.1", int(sys.argv[1])), timeout_ms=1500, tries=2)
    before = ticks[0]
    try:
        result = {"address": await resolver.resolve(sys.argv[2])}
        result["cached"] = await resolver.resolve(sys.argv[2])
    except DNSError as exc:
        result = {"error": str(exc), "code": exc.code}
    result["ticks"] = ticks[0] - before
    print(json.dumps(result))


asyncio.run(main())

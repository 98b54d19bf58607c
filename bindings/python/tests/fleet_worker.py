"""One server of a fleet, as its own OS process, for test_redis.py: a WxaClient whose tokens
live in Redis. It prints `ready`, then for each `go` line on stdin runs CALLS concurrent
get_store_list calls on one asyncio loop and prints one JSON line with the outcome; `quit`
ends it. With `--provider hang` its provider announces `fetching` and never returns (the
test then kills the process while it holds the fleet's refresh lock)."""

import argparse
import asyncio
import json
import sys
import time

import mendian


class Hang(mendian.WxaTokenProvider):
    async def fetch_token(self, force_refresh):
        print("fetching", flush=True)
        await asyncio.sleep(3600)
        raise AssertionError("unreachable")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--profile", required=True, help="the emulator's connection profile (JSON)")
    ap.add_argument("--redis", required=True)
    ap.add_argument("--provider", choices=["stable", "classic", "hang"], default="stable")
    ap.add_argument("--calls", type=int, default=50)
    ap.add_argument("--lock-ttl-ms", type=int, default=10000)
    args = ap.parse_args()
    p = json.loads(args.profile)
    if args.provider == "hang":
        provider = Hang()
    elif args.provider == "classic":
        provider = mendian.wxa_classic_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"])
    else:
        provider = mendian.wxa_stable_token_provider(p["wxa_appid"], p["wxa_secret"], p["wxa_base_url"])
    config = mendian.WxaConfig(
        appid=p["wxa_appid"],
        options=mendian.ClientOptions(base_url=p["wxa_base_url"], backup_base_url=""),
        token_lock_ttl_ms=args.lock_ttl_ms,
    )
    store = mendian.wxa_redis_token_store(args.redis, "fleet-test:")
    wx = mendian.WxaClient(config, provider, store)

    async def batch():
        started = time.monotonic()
        results = await asyncio.gather(
            *(wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=1)) for _ in range(args.calls)),
            return_exceptions=True,
        )
        errors = [repr(r) for r in results if isinstance(r, BaseException)]
        return {"ok": len(results) - len(errors), "errors": errors[:5], "seconds": time.monotonic() - started}

    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() == "go":
            print(json.dumps(asyncio.run(batch())), flush=True)
        elif line.strip() == "quit":
            return


if __name__ == "__main__":
    main()

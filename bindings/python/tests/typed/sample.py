"""A typed app module, checked with `mypy --strict` by test_typing.py (never run)."""

import mendian


def count_stores(base_url: str, appid: str, secret: str) -> int:
    options = mendian.ClientOptions(base_url=base_url, backup_base_url="")
    wx = mendian.WxaClient(
        mendian.WxaConfig(appid=appid, options=options),
        mendian.wxa_stable_token_provider(appid, secret, base_url),
        mendian.wxa_memory_token_store(),
    )
    page: mendian.GetStoreListResponse = wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=10))
    try:
        wx.get_store_list(mendian.GetStoreListRequest(offset=0, limit=51))
    except mendian.MendianError.InvalidArgument as e:
        field: str = e.field
        print(field, e.reason)
    except mendian.MendianError.Api as e:
        status: int | None = e.http_status
        retry: bool = e.retryable
        print(status, retry, e.code, e.remedy)
    except mendian.MendianError as e:
        print(e)
    return page.total_count or 0


async def count_stores_async(wx: mendian.WxaClient) -> int:
    page = await wx.get_store_list_async(mendian.GetStoreListRequest(offset=0, limit=10))
    return page.total_count or 0


def describe(code: str) -> str | None:
    info = mendian.describe_error("update_guide", code, None, "")
    return None if info is None else info.description


def count_stores_on_mendian_loop(wx: mendian.WxaClient) -> int:
    total: int = mendian.run(count_stores_async(wx))
    loop = mendian.new_event_loop()
    try:
        return total + loop.run_until_complete(count_stores_async(wx))
    finally:
        loop.close()

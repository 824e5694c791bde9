"""``shopapi._session.transport``: URLs built below a base parsed once."""

from __future__ import annotations

import pytest
from yarl import URL

from shopapi import ShopApiClient
from shopapi._protocol.requests import normalize_base_url
from shopapi._session.transport import UrlBuilder

PATHS = [
    "v1/Shops/1/MessageConversations/2",
    "v1/Shops/1/MessageConversations?pageSize=100&pageNumber=2",
    "v1/Shops/7/MessageConversations/9/Messages",
]


@pytest.mark.parametrize(
    ("base", "canonical"),
    [
        ("https://tenant.shopctrl.com:52222", "https://tenant.shopctrl.com:52222/"),
        ("http://127.0.0.1:8080/api/", "http://127.0.0.1:8080/api/"),
        ("https://[::1]:8443", "https://[::1]:8443/"),
        ("https://exämple.com/ä", "https://xn--exmple-cua.com/%C3%A4/"),
        ("https://Tenant.Example:443/", "https://tenant.example/"),
        ("https://h.example/a/../b", "https://h.example/b/"),
        ("https://h.example/a%zz", "https://h.example/a%25zz/"),
    ],
)
@pytest.mark.parametrize("path", PATHS)
def test_the_url_sent_is_the_canonical_base_joined_with_the_path(
    base: str, canonical: str, path: str
) -> None:
    """The base is parsed once, as aiohttp would parse it; the URL sent is exactly the
    text ``base + path`` that logs and errors show."""
    builder = UrlBuilder(normalize_base_url(base))
    assert builder.base == canonical
    url = builder(path)
    assert str(url) == canonical + path
    assert url == URL(canonical + path, encoded=True)
    assert url.query_string == path.partition("?")[2]


async def test_the_client_reports_the_base_it_sends_to() -> None:
    async with ShopApiClient("https://Tenant.Example:443") as client:
        assert client.base_url == "https://tenant.example/"

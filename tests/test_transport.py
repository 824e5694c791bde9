"""``shopapi._transport``: URLs built below a parsed base."""

from __future__ import annotations

import pytest
from yarl import URL

from shopapi._protocol import normalize_base_url
from shopapi._transport import UrlBuilder


@pytest.mark.parametrize(
    ("base", "path", "expected"),
    [
        (
            "https://tenant.shopctrl.com:52222",
            "v1/Shops/1/MessageConversations/2",
            "https://tenant.shopctrl.com:52222/v1/Shops/1/MessageConversations/2",
        ),
        (
            "http://127.0.0.1:8080/api/",
            "v1/Shops/1/MessageConversations?pageSize=100&pageNumber=2",
            "http://127.0.0.1:8080/api/v1/Shops/1/MessageConversations?pageSize=100&pageNumber=2",
        ),
        (
            "https://[::1]:8443",
            "v1/Shops/7/MessageConversations/9/Messages",
            "https://[::1]:8443/v1/Shops/7/MessageConversations/9/Messages",
        ),
        (
            "https://exämple.com/ä",
            "v1/Shops/1/MessageConversations",
            "https://xn--exmple-cua.com/%C3%A4/v1/Shops/1/MessageConversations",
        ),
    ],
)
def test_urls_are_the_base_joined_with_the_path(base: str, path: str, expected: str) -> None:
    """The same URL a full parse of base + path gives, with the base encoded once."""
    url = UrlBuilder(normalize_base_url(base))(path)
    assert str(url) == expected
    assert url == URL(expected, encoded=True)
    assert url.query_string == (path.partition("?")[2])

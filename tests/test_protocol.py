"""Request building and answer reading: pure, no event loop."""

from __future__ import annotations

import attrs
import pytest

from shopapi import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientError,
    ConfigurationError,
    DecodeError,
    JsonCodec,
    MessageConversation,
    MessageConversationChanges,
    NotFoundError,
    PermissionDeniedError,
    PlatformKindEnum,
    RateLimitError,
    ResponseMismatchError,
    ServerError,
    ValidationError,
    XmlCodec,
)
from shopapi._protocol.requests import (
    Credentials,
    Request,
    api_error,
    basic_auth_header,
    build_request,
    check_answer,
    normalize_base_url,
    read_answer,
    render_path,
)
from shopapi._resources.message_conversations import RESOURCE
from shopapi.codecs import default_registry

BASE = "https://tenant.shopctrl.com:52222/"
LIST = RESOURCE.endpoint("list")
UPDATE = RESOURCE.endpoint("update")


def changes(**kw: object) -> MessageConversationChanges:
    values: dict[str, object] = {
        "id": 42,
        "shop_id": 7,
        "platform_kind_enum_value": PlatformKindEnum.FlowAi,
        "note": "hi",
    }
    values.update(kw)
    return MessageConversationChanges(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "https://tenant.shopctrl.com:52222",
        "https://tenant.shopctrl.com:52222/",
        "https://tenant.shopctrl.com:52222///",
    ],
)
def test_base_url_gets_one_trailing_slash(url: str) -> None:
    assert normalize_base_url(url) == BASE


def test_base_url_keeps_a_path_prefix() -> None:
    assert normalize_base_url("http://127.0.0.1:8080/api") == "http://127.0.0.1:8080/api/"


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://x", "https"),
        ("tenant.shopctrl.com", "https"),
        ("https://user:pw@tenant.shopctrl.com", "credentials"),
        ("https://tenant.shopctrl.com/?a=1", "query"),
        ("https://tenant.shopctrl.com/?", "query"),
        ("https://tenant.shopctrl.com/#", "fragment"),
        ("https://tenant.shopctrl.com:99999", "not a URL"),
        ("https://", "no host"),
        ("https://tenant.shopctrl.com/a b", "whitespace"),
    ],
)
def test_bad_base_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        normalize_base_url(url)


def test_credentials_in_a_url_never_appear_in_the_error() -> None:
    with pytest.raises(ConfigurationError) as info:
        normalize_base_url("https://user:hunter2@tenant.shopctrl.com")
    assert "hunter2" not in str(info.value)


def test_paths_are_built_from_checked_ints_only() -> None:
    assert render_path(UPDATE, (7, 42)) == "v1/Shops/7/MessageConversations/42"
    assert render_path(LIST, (7,)) == "v1/Shops/7/MessageConversations"
    for bad in ["42", "1\r\nX-Evil: 1", 4.0, True, -1, 2**31]:
        with pytest.raises(ValidationError):
            render_path(UPDATE, (7, bad))
        with pytest.raises(ValidationError):
            render_path(LIST, (bad,))
    with pytest.raises(ValidationError):
        render_path(LIST, (None,))


def test_build_update_renders_a_put_with_the_codec_headers() -> None:
    request = build_request(UPDATE, BASE, JsonCodec(), path=(7, 42), body=changes())
    assert request.method == "PUT"
    assert request.url == BASE + "v1/Shops/7/MessageConversations/42"
    assert request.path == "v1/Shops/7/MessageConversations/42"
    assert request.headers["Content-Type"].startswith("application/json")
    assert request.headers["Accept"] == "application/json"
    assert request.body == JsonCodec().encode(changes())
    assert request.idempotent

    xml = build_request(UPDATE, BASE, XmlCodec(), path=(7, 42), body=changes())
    assert xml.headers["Accept"] == "application/xml"
    assert xml.body is not None
    assert xml.body.startswith(b"<MessageConversationChanges ")


def test_build_update_checks_ids_against_the_body_and_names_every_field() -> None:
    bad = changes(id=41, shop_id=8, customer_email="x" * 51)
    with pytest.raises(ValidationError) as info:
        build_request(UPDATE, BASE, JsonCodec(), path=(7, 42), body=bad)
    assert set(info.value.fields) == {"Id", "ShopId", "CustomerEmail"}
    assert "41" in str(info.value)
    assert "42" in str(info.value)


def test_build_update_refuses_what_the_format_cannot_carry() -> None:
    with pytest.raises(ValidationError) as info:
        build_request(
            UPDATE, BASE, XmlCodec(), path=(7, 42), body=changes(platform_kind_enum_value=9)
        )
    assert info.value.fields == ("PlatformKindEnumValue",)
    assert build_request(
        UPDATE, BASE, JsonCodec(), path=(7, 42), body=changes(platform_kind_enum_value=9)
    ).body


def test_build_update_sends_a_control_character_in_both_formats() -> None:
    """XML carries it as a character reference, which the server's reader takes."""
    body = build_request(UPDATE, BASE, XmlCodec(), path=(7, 42), body=changes(note="bell\x07")).body
    assert body is not None
    assert b"<Note>bell&#x7;</Note>" in body
    assert build_request(
        UPDATE, BASE, JsonCodec(), path=(7, 42), body=changes(note="bell\x07")
    ).body


def test_build_update_refuses_a_non_model_body() -> None:
    with pytest.raises(ValidationError, match="MessageConversationChanges"):
        build_request(UPDATE, BASE, JsonCodec(), path=(7, 42), body={"Id": 42})


def test_credentials_never_show() -> None:
    creds = Credentials("alice", "s3cret!")
    assert "s3cret" not in repr(creds)
    assert "alice" not in repr(creds)
    assert creds.header == "Basic YWxpY2U6czNjcmV0IQ=="
    assert basic_auth_header("Ümit", "pässword").startswith("Basic ")
    for user, password in [("a:b", "p"), ("a", "p\r\nX: y")]:
        with pytest.raises(ConfigurationError) as info:
            basic_auth_header(user, password)
        assert "p\r\n" not in str(info.value)


REQUEST = Request("PUT", "v1/Shops/7/MessageConversations/42", BASE + "v1/x", {}, b"{}")


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ClientError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
        (302, ApiError),
    ],
)
def test_statuses_map_to_typed_errors(status: int, cls: type[ApiError]) -> None:
    error = api_error(REQUEST, status, {}, b"", attempts=3)
    assert type(error) is cls
    assert error.status == status
    assert error.attempts == 3
    assert error.method == "PUT"
    assert error.url == REQUEST.url


def test_api_error_parses_model_state_and_keeps_the_raw_body() -> None:
    body = (
        b'{"Message":"The request is invalid.",'
        b'"ModelState":{"changes.CustomerEmail":["The field is too long."]}}'
    )
    error = api_error(REQUEST, 400, {"Content-Type": "application/json; charset=utf-8"}, body)
    assert error.message == "The request is invalid."
    assert error.model_state == {"changes.CustomerEmail": ("The field is too long.",)}
    assert error.body == body
    assert "CustomerEmail" in str(error)
    assert "400" in str(error)


def test_api_error_keeps_an_unparsable_body() -> None:
    error = api_error(REQUEST, 502, {"Content-Type": "text/html"}, b"<html>Bad gateway")
    assert error.message is None
    assert error.body == b"<html>Bad gateway"


def saved(**kw: object) -> MessageConversation:
    return MessageConversation(**attrs.asdict(changes(**kw), recurse=False))


def test_read_answer_decodes_by_content_type() -> None:
    registry = default_registry()
    body = XmlCodec().encode(saved())
    value = read_answer(
        REQUEST,
        200,
        {"Content-Type": "application/xml; charset=utf-8"},
        body,
        codec=JsonCodec(),
        registry=registry,
        expect=MessageConversation,
    )
    assert value == saved()


def test_read_answer_refuses_an_unknown_content_type() -> None:
    with pytest.raises(DecodeError, match="text/html"):
        read_answer(
            REQUEST,
            200,
            {"Content-Type": "text/html"},
            JsonCodec().encode(saved()),
            codec=JsonCodec(),
            registry=default_registry(),
            expect=MessageConversation,
        )


def test_read_answer_checks_it_is_the_same_conversation() -> None:
    with pytest.raises(ResponseMismatchError, match="42"):
        read_answer(
            REQUEST,
            200,
            {"Content-Type": "application/json"},
            JsonCodec().encode(saved(id=43)),
            codec=JsonCodec(),
            registry=default_registry(),
            expect=MessageConversation,
            check=check_answer(UPDATE, (7, 42)),
        )


def test_read_answer_raises_the_api_error_for_non_2xx() -> None:
    with pytest.raises(NotFoundError):
        read_answer(
            REQUEST,
            404,
            {},
            b"",
            codec=JsonCodec(),
            registry=default_registry(),
            expect=MessageConversation,
        )


def test_codec_headers_are_one_shared_mapping_per_codec_and_go_with_it() -> None:
    """The session caches what it derives per header mapping, so each codec must give
    the same mapping every time; a codec that goes away leaves nothing behind."""
    import gc

    from shopapi._protocol.requests import _HEADERS, codec_headers

    codec = XmlCodec()
    with_body = codec_headers(codec)
    assert codec_headers(codec) is with_body
    assert dict(with_body) == {
        "Content-Type": "application/xml; charset=utf-8",
        "Accept": "application/xml",
    }
    assert dict(codec_headers(codec, body=False)) == {"Accept": "application/xml"}
    assert codec in _HEADERS
    gc.collect()  # codecs of earlier tests still in reference cycles go first
    entries = len(_HEADERS)
    del codec
    gc.collect()
    assert len(_HEADERS) == entries - 1


@pytest.mark.parametrize(
    ("content_type", "picked"),
    [
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json"),
        ("Application/JSON ; charset=utf-8", "json"),
        ("application/xml; charset=utf-8", "xml"),
        ("application/problem+xml", "xml"),
        ("application/jsonx", None),
        ("application/json-seq", None),
    ],
)
def test_the_answer_codec_follows_the_media_type_not_a_prefix(
    content_type: str, picked: str | None
) -> None:
    from shopapi._protocol.requests import pick_decoder

    codec = JsonCodec()
    if picked is None:
        with pytest.raises(DecodeError, match="unexpected Content-Type"):
            pick_decoder(codec, default_registry(), content_type)
        return
    found = pick_decoder(codec, default_registry(), content_type)
    assert found.media_type == f"application/{picked}"
    if picked == "json":
        assert found is codec  # the client's own codec, with its settings

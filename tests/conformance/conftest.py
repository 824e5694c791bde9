"""Fixtures of the conformance suite: the compiled .NET programs, the serializer tool, and
real Web API servers. Building or starting them fails the tests loudly (never skips)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from conformance.harness import Built, DotnetServer, SerializerTool, build

USERNAME = "conformance-user"
PASSWORD = "s3cret:\u00e9 with colon"


@pytest.fixture(scope="session")
def built() -> Built:
    """The tool and the server, compiled against models generated from shopapi's."""
    return build()


@pytest.fixture(scope="session")
def tool(built: Built) -> Iterator[SerializerTool]:
    """One serializer process for the whole run."""
    with SerializerTool(built) as t:
        yield t


# The servers are per module: a Mono SelfHost process that has lived through a few minutes
# of other tests sometimes stops answering (its thread count climbs past 200 and requests
# time out), so each module gets a fresh one.


@pytest.fixture(scope="module")
def server(built: Built) -> Iterator[DotnetServer]:
    """The Web API server as it runs on Mono (XML line ends ``"\\n"``)."""
    with DotnetServer(built, username=USERNAME, password=PASSWORD) as s:
        yield s


@pytest.fixture(scope="module")
def windows_server(built: Built) -> Iterator[DotnetServer]:
    """The same server writing XML line ends as on Windows (``"\\r\\n"``)."""
    with DotnetServer(built, username=USERNAME, password=PASSWORD, crlf=True) as s:
        yield s

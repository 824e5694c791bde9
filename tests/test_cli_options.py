"""Numeric options refuse what they cannot mean, with the reason, before anything runs."""

from __future__ import annotations

import pytest

from shopapi._cli.app import build_parser


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "70000"], "not a port (0-65535): '70000'"),
        (["serve", "--port", "x"], "not an integer: 'x'"),
        (["conversations", "update", "--concurrency", "0", "-"], "must be >= 1: '0'"),
        (["serve", "--seed", "-1"], "must be >= 0: '-1'"),
    ],
)
def test_a_bad_number_is_a_usage_error_naming_why(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_the_edges_are_accepted() -> None:
    args = build_parser().parse_args(["serve", "--port", "0"])
    assert args.port == 0
    args = build_parser().parse_args(["serve", "--port", "65535"])
    assert args.port == 65535

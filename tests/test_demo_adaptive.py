"""``python -m shopapi demo --adaptive``: the limit follows the capacity, as a text plot."""

from __future__ import annotations

import io

from shopapi._cli.demo import run_adaptive_demo, text_plot


async def test_the_adaptive_demo_saves_every_item_once_and_plots_the_limit() -> None:
    out = io.StringIO()
    assert await run_adaptive_demo(items=900, out=out) == 0
    text = out.getvalue()
    assert "saved 900 of 900" in text
    assert "every item was reported exactly once" in text
    plot = text.split("capacity (-):")[1]
    assert plot.count("*") >= 30
    assert plot.count("-") >= 30


def test_text_plot_draws_the_limit_over_the_capacity() -> None:
    plot = text_plot([(0.0, 4), (1.0, 8)], [(0.0, 4), (1.0, 8)], 2.0, width=8, height=4)
    assert plot.splitlines() == [
        "    8 |    ****",  # the limit hides the capacity where they meet
        "    6 |",
        "      |****",
        "    2 |",
        "      +--------",
        "       0s  1s",
    ]
    below = text_plot([(0.0, 2)], [(0.0, 4)], 1.0, width=2, height=2)
    assert below.splitlines()[:2] == ["    4 |--", "    2 |**"]


def test_the_readmes_demo_command_shows_the_fault_run_then_the_adaptive_one() -> None:
    """``python -m shopapi demo`` (the README's first command) runs both parts."""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "shopapi", "demo", "--items", "60"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    faults, adaptive = done.stdout.split("concurrency='auto'", 1)
    assert "every item was reported exactly once; nothing was lost" in faults
    assert "concurrency limit (*) and the server's capacity (-):" in adaptive
    assert "saved 2400 of 2400" in adaptive

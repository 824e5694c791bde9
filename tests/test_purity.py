"""Models and codecs are pure: importing them must not pull in the I/O layer.

Users embed the codecs in their own services, the fake server and benchmarks; the
layering in the design (models, codecs, session) is only real if importing the lower
layers leaves aiohttp unloaded. A fresh interpreter is used so that the test suite's
own imports cannot hide a violation.
"""

from __future__ import annotations

import subprocess
import sys


def test_models_and_codecs_do_not_import_aiohttp() -> None:
    """``import shopapi.codecs, shopapi._resources.message_conversations`` must leave aiohttp
    out of sys.modules."""
    code = (
        "import shopapi.codecs, shopapi._resources.message_conversations, sys; "
        "assert 'aiohttp' not in sys.modules, "
        "sorted(m for m in sys.modules if m.startswith('shopapi'))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr

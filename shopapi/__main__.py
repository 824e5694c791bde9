"""``python -m shopapi``: see :mod:`shopapi._cli.app`."""

from __future__ import annotations

from ._cli.app import main

if __name__ == "__main__":
    raise SystemExit(main())

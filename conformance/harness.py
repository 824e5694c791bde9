"""Build and run the .NET side of the conformance suite: the serializer tool and the server.

:func:`build` generates the C# models (:mod:`conformance.codegen`) and compiles them with
the hand-written sources in this directory using ``mcs``; the output is cached under
``.conformance-build/`` (git-ignored) by a hash of everything that goes into it.
:class:`SerializerTool` keeps one ``mono Tool.exe`` process and speaks its line protocol
(see ``Tool.cs``) in batches. :class:`DotnetServer` starts ``Server.exe`` on a free port
of 127.0.0.1, retrying in a fresh process when Mono's SelfHost fails to open.

Every .NET process runs with ``TZ=Europe/Amsterdam``, the zone that reproduces the help
page's ``+01:00`` samples, so that local dates are deterministic.
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import select
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Literal, Self

from . import codegen

__all__ = [
    "DOTNET_TZ",
    "Built",
    "ConformanceSetupError",
    "DotnetServer",
    "SerializerTool",
    "build",
    "dotnet_env",
]

HERE: Final = Path(__file__).resolve().parent
BUILD_ROOT: Final = HERE.parent / ".conformance-build"
DOTNET_TZ: Final = "Europe/Amsterdam"
NEWTONSOFT_GLOB: Final = "/usr/lib/mono/gac/Newtonsoft.Json/6.*/Newtonsoft.Json.dll"
PACKAGES: Final = (
    "mono-mcs mono-runtime libnewtonsoft-json5.0-cil libmono-system-xml-linq4.0-cil "
    "libmono-system-runtime-serialization4.0-cil libmono-system-net-http-formatting4.0-cil "
    "libmono-system-web-http4.0-cil libmono-system-web-http-selfhost4.0-cil"
)
_TOOL_SOURCES: Final = ("Tool.cs", "Wire.cs", "XmlWire.cs")
_SERVER_SOURCES: Final = ("Server.cs", "XmlWire.cs")
_BASE_REFS: Final = (
    "System.Xml",
    "System.Runtime.Serialization",
    "System.ComponentModel.DataAnnotations",
)
_SERVER_REFS: Final = (
    "System.Core",
    "System.Net.Http",
    "System.Net.Http.Formatting",
    "System.ServiceModel",
    "System.Web.Http",
    "System.Web.Http.SelfHost",
)

Format = Literal["json", "xml"]


class ConformanceSetupError(RuntimeError):
    """The .NET stack is missing, does not compile, or a .NET process failed.

    The conformance tests fail on it (they never skip): a suite that silently does not
    run proves nothing.
    """


def dotnet_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of every .NET process: ours, plus a fixed time zone."""
    env = dict(os.environ)
    env["TZ"] = DOTNET_TZ
    env.update(extra or {})
    return env


def _require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        raise ConformanceSetupError(
            f"{program} not found: the conformance suite needs Mono and the Web API "
            f"packages (apt-get install -y {PACKAGES})"
        )
    return path


def _newtonsoft() -> str:
    found = sorted(glob.glob(NEWTONSOFT_GLOB))
    if not found:
        raise ConformanceSetupError(
            f"Json.NET 6 not found at {NEWTONSOFT_GLOB} (apt-get install -y {PACKAGES})"
        )
    return found[-1]


@dataclass(frozen=True)
class Built:
    """The compiled programs."""

    tool: Path
    server: Path
    models_source: str


def build(root: Path = BUILD_ROOT) -> Built:
    """Generate the models and compile the tool and the server (cached by content).

    Raises:
        ConformanceSetupError: ``mono``/``mcs``/Json.NET are missing or ``mcs`` fails.
    """
    mcs = _require("mcs")
    _require("mono")
    newtonsoft = _newtonsoft()
    types = codegen.CONFORMANCE_TYPES
    models = codegen.generate(types) + codegen.generate_extended(types)
    digest = hashlib.sha256(models.encode())
    for name in sorted({*_TOOL_SOURCES, *_SERVER_SOURCES}):
        digest.update(name.encode() + b"\0" + (HERE / name).read_bytes())
    digest.update(newtonsoft.encode())
    out = root / digest.hexdigest()[:16]
    tool, server = out / "Tool.exe", out / "Server.exe"
    if tool.exists() and server.exists():
        return Built(tool, server, models)
    staging = Path(tempfile.mkdtemp(prefix="build-", dir=_mkdir(root)))
    (staging / "Models.cs").write_text(models, encoding="utf-8")
    try:
        sources = [str(HERE / n) for n in _TOOL_SOURCES] + [str(staging / "Models.cs")]
        refs = [f"-r:{newtonsoft}", *(f"-r:{r}" for r in _BASE_REFS)]
        _compile(mcs, staging / "Tool.exe", sources, refs)
        # The server takes Json.NET from its formatter's assembly, which embeds an older one.
        sources = [str(HERE / n) for n in _SERVER_SOURCES] + [str(staging / "Models.cs")]
        refs = [f"-r:{r}" for r in (*_BASE_REFS, *_SERVER_REFS)]
        _compile(mcs, staging / "Server.exe", sources, refs)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if out.exists():  # another run built it meanwhile
        shutil.rmtree(staging)
    else:
        staging.rename(out)
    return Built(tool, server, models)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _compile(mcs: str, output: Path, sources: Sequence[str], refs: Sequence[str]) -> None:
    command = [mcs, "-nologo", "-warnaserror-", f"-out:{output}", *refs, *sources]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if done.returncode != 0:
        raise ConformanceSetupError(f"mcs failed for {output.name}:\n{done.stdout}{done.stderr}")


def b64(text: str) -> str:
    """A string in the tool's neutral form: base64 of its UTF-8."""
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def unb64(text: str) -> str:
    """The string a neutral base64 value holds."""
    return base64.b64decode(text).decode("utf-8")


class SerializerTool:
    """One long-lived ``mono Tool.exe``; every call is one batch (one line each way)."""

    def __init__(self, built: Built) -> None:
        # Closed in close(); a file, not a pipe, so that the tool never blocks on it.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            ["mono", str(built.tool)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=dotnet_env(),
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """End the process (it exits when its stdin closes)."""
        if self._proc.stdin is not None and not self._proc.stdin.closed:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
        self._stderr.close()

    def _call(self, request: Mapping[str, Any]) -> list[dict[str, Any]]:
        assert self._proc.stdin is not None
        assert self._proc.stdout is not None
        try:
            self._proc.stdin.write(json.dumps(request).encode("ascii") + b"\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        except (BrokenPipeError, OSError):
            line = b""
        if not line:
            self._stderr.seek(0)
            raise ConformanceSetupError(
                f"the serializer tool died: {self._stderr.read().decode(errors='replace')}"
            )
        answer: dict[str, Any] = json.loads(line)
        if "fatal" in answer:
            raise ConformanceSetupError(f"the serializer tool refused a request: {answer['fatal']}")
        results: list[dict[str, Any]] = answer["results"]
        return results

    def write(
        self, type_name: str, values: Sequence[Mapping[str, Any]], *, newline: str | None = None
    ) -> list[dict[str, Any]]:
        """.NET writes each neutral value as JSON and as XML (``newline``: ``NewLineChars``).

        Returns per value ``json``/``xml`` bytes, or ``json_error``/``xml_error`` text.
        """
        results = self._call(
            {"op": "write", "type": type_name, "newline": newline, "values": list(values)}
        )
        return [_decoded(r) for r in results]

    def read(self, type_name: str, fmt: Format, bodies: Sequence[bytes]) -> list[dict[str, Any]]:
        """.NET reads each body; per body its neutral ``value`` or an ``error``."""
        encoded = [base64.b64encode(b).decode("ascii") for b in bodies]
        return self._call({"op": "read", "type": type_name, "format": fmt, "bodies": encoded})

    def convert(
        self,
        type_name: str,
        fmt: Format,
        bodies: Sequence[bytes],
        *,
        newline: str | None = None,
        indent: bool = False,
    ) -> list[dict[str, Any]]:
        """.NET reads each body in ``fmt`` and writes what it read in both formats
        (``indent``: as the help page's samples are)."""
        encoded = [base64.b64encode(b).decode("ascii") for b in bodies]
        request = {
            "op": "convert",
            "type": type_name,
            "format": fmt,
            "newline": newline,
            "indent": indent,
        }
        return [_decoded(r) for r in self._call({**request, "bodies": encoded})]


def _decoded(result: dict[str, Any]) -> dict[str, Any]:
    out = dict(result)
    for key in ("json", "xml"):
        if isinstance(out.get(key), str):
            out[key] = base64.b64decode(out[key])
    return out


def free_port() -> int:
    """A port of 127.0.0.1 nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class DotnetServer:
    """The Web API SelfHost server (``Server.cs``) in a process of its own.

    Args:
        built: From :func:`build`.
        username: The HTTP Basic user it accepts.
        password: Its password (passed in the environment, never on a command line).
        crlf: Write XML line ends as a Windows server does (``"\\r\\n"``), not Mono's ``"\\n"``.
        attempts: Fresh processes to try when SelfHost fails to open (a known Mono quirk).
    """

    def __init__(
        self, built: Built, *, username: str, password: str, crlf: bool = False, attempts: int = 5
    ) -> None:
        self._built = built
        self._env = dotnet_env(
            {
                "SHOPAPI_CONFORMANCE_USER": username,
                "SHOPAPI_CONFORMANCE_PASSWORD": password,
                "SHOPAPI_CONFORMANCE_NEWLINE": "crlf" if crlf else "",
            }
        )
        self._attempts = attempts
        self._proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        #: Why earlier attempts failed (the NullReferenceException quirk, a port race).
        self.failed_starts: list[str] = []

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        """Start it, retrying in a fresh process and on a fresh port.

        Raises:
            ConformanceSetupError: No attempt opened.
        """
        for _ in range(self._attempts):
            port = free_port()
            proc = subprocess.Popen(
                ["mono", str(self._built.server), str(port)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=self._env,
            )
            assert proc.stdout is not None
            ready, _, _ = select.select([proc.stdout], [], [], timeout)
            line = proc.stdout.readline().decode(errors="replace").strip() if ready else ""
            if line == "LISTENING":
                self._proc, self.port = proc, port
                return
            self.failed_starts.append(line or f"no answer within {timeout} s")
            _stop(proc)
        raise ConformanceSetupError(
            f"the Web API server did not start in {self._attempts} attempts: {self.failed_starts}"
        )

    def close(self) -> None:
        """Stop it (it exits when its stdin closes)."""
        if self._proc is not None:
            _stop(self._proc)
            self._proc = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None and not proc.stdin.closed:
        proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()

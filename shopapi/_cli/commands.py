"""The command line's commands, derived from the resource descriptions (pure, no I/O).

Every :class:`~shopapi._resources.spec.Resource` in ``RESOURCES`` is a noun
(:attr:`Resource.cli`), and each of its endpoints is one verb, by one rule:

* a LIST endpoint is exported: ``export`` for the list named ``list``, and
  ``export-<name>`` for any other (``conversations export-messages``);
* every other endpoint's verb is its client method's name in kebab case (``get``,
  ``update``, ``post-message``).

Options follow one rule too: a path parameter is ``--`` plus the kebab case of its wire
name without a trailing ``Id`` (``shopId`` is ``--shop``, ``messageConversationId`` is
``--message-conversation``), and a filter is the kebab case of its wire name
(``fromDateChanged`` is ``--from-date-changed``). A writing command (UPDATE or INSERT)
takes the path parameters that a :class:`~shopapi._resources.spec.Key` ties to a body
field from each input line, and the others from options.

A resource added to ``RESOURCES`` gets its commands from here, with no change to the
command line; the calls go through the client's typed methods by the names the
conventions give them (``{name}``, ``{name}_many``), found with ``getattr``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import attrs

from .._resources.spec import Endpoint, PathParam, QueryParam, Resource, Role

__all__ = [
    "Command",
    "Filter",
    "PathOption",
    "derive",
    "filter_flag",
    "kebab",
    "param_flag",
    "verb",
]

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+")

#: The options every command has; a derived option may not take one of these names.
RESERVED = frozenset(
    {
        "--base-url",
        "--username",
        "--password",
        "--format",
        "--verbose",
        "--version",
        "--help",
        "--dry-run",
        "--against",
        "--concurrency",
        "--rate",
        "--journal",
        "--failures",
        "--timeout",
        "--max-attempts",
        "--allow-unknown-members",
    }
)


def kebab(name: str) -> str:
    """``fromDateChanged`` -> ``from-date-changed``; ``post_message`` -> ``post-message``."""
    words: list[str] = []
    for part in name.split("_"):
        words.extend(w.lower() for w in _WORD.findall(part))
    return "-".join(words)


def param_flag(param: PathParam) -> str:
    """The option of a path parameter: ``shopId`` -> ``--shop``."""
    wire = param.wire
    if wire.endswith("Id") and len(wire) > 2:
        wire = wire[:-2]
    return "--" + kebab(wire)


def filter_flag(query: QueryParam) -> str:
    """The option of a filter: ``fromDateChanged`` -> ``--from-date-changed``."""
    return "--" + kebab(query.wire)


def verb(endpoint: Endpoint) -> str:
    """The command's verb (see the module docstring for the rule)."""
    if endpoint.role is Role.LIST:
        return "export" if endpoint.name == "list" else "export-" + kebab(endpoint.name)
    return kebab(endpoint.name)


@attrs.frozen
class PathOption:
    """How a command learns one path parameter.

    Attributes:
        param: The parameter.
        flag: Its option (``--shop``).
        field: The body field that carries it on each input line (a writing command's
            key field), or ``None``: the option gives it, and is required.
    """

    param: PathParam
    flag: str
    field: str | None = None

    @property
    def dest(self) -> str:
        """The argparse destination: the parameter's Python name."""
        return self.param.name

    @property
    def label(self) -> str:
        """The word that names it in messages: ``shop``, ``conversation``."""
        words = self.param.name.split("_")
        if len(words) > 1 and words[-1] == "id":
            words.pop()
        return words[-1]


@attrs.frozen
class Filter:
    """A query parameter as an option."""

    query: QueryParam
    flag: str

    @property
    def dest(self) -> str:
        """The argparse destination (and the client method's keyword)."""
        return self.query.name


@attrs.frozen
class Command:
    """One ``shopapi <noun> <verb>`` command.

    Attributes:
        resource: The resource (its :attr:`Resource.name` is the client attribute).
        endpoint: The endpoint it calls.
        noun: :attr:`Resource.cli`.
        verb: See :func:`verb`.
        path: How each path parameter is given, in template order.
        filters: The endpoint's filters.
    """

    resource: Resource
    endpoint: Endpoint
    noun: str
    verb: str
    path: tuple[PathOption, ...]
    filters: tuple[Filter, ...]

    @property
    def writes(self) -> bool:
        """Whether it sends bodies (UPDATE or INSERT): it reads FILE and has --dry-run."""
        return self.endpoint.role in (Role.UPDATE, Role.INSERT)

    @property
    def options(self) -> tuple[PathOption, ...]:
        """The path parameters given as options (required)."""
        return tuple(p for p in self.path if p.field is None)

    @property
    def from_lines(self) -> tuple[PathOption, ...]:
        """The path parameters read from each input line's key fields."""
        return tuple(p for p in self.path if p.field is not None)

    @property
    def name(self) -> str:
        """``conversations update``."""
        return f"{self.noun} {self.verb}"


def _command(resource: Resource, endpoint: Endpoint) -> Command:
    keyed: dict[str, str] = {}
    if endpoint.role in (Role.UPDATE, Role.INSERT):
        keyed = {key.param: key.field for key in endpoint.keys}
    path = tuple(PathOption(p, param_flag(p), keyed.get(p.name)) for p in endpoint.params)
    filters = tuple(Filter(q, filter_flag(q)) for q in endpoint.query)
    command = Command(resource, endpoint, resource.cli, verb(endpoint), path, filters)
    flags = [p.flag for p in command.options] + [f.flag for f in filters]
    clash = sorted((set(flags) & RESERVED) | {f for f in flags if flags.count(f) > 1})
    if clash:
        raise ValueError(f"{command.name}: derived options {clash} clash with another option")
    return command


def derive(resources: Iterable[Resource]) -> tuple[Command, ...]:
    """Every command of ``resources``, in their order and their endpoints' order.

    Raises:
        ValueError: Two resources share a noun, two endpoints a verb, or a derived
            option takes a name that is already used.
    """
    commands: list[Command] = []
    seen: set[tuple[str, str]] = set()
    for resource in resources:
        for endpoint in resource.endpoints:
            command = _command(resource, endpoint)
            if (command.noun, command.verb) in seen:
                raise ValueError(f"two commands are named {command.name!r}")
            seen.add((command.noun, command.verb))
            commands.append(command)
    return tuple(commands)

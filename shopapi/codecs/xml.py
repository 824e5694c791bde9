"""XML as .NET's ``XmlSerializer`` writes and reads it.

Use :class:`XmlCodec`, or :func:`configure_converter` to teach a cattrs converter the
same rules (``converter.unstructure(model)`` then gives the XML document text, and
``converter.structure(element, Model)`` reads an lxml element). The rules are listed
there; among them, elements a model does not declare are kept as they came and written
back in place (:class:`~shopapi.Unknown`).
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import cattrs
from lxml import etree

from .._exceptions import ConfigurationError, DecodeError
from .._wire.fields import xml_order
from .._wire.kinds import KINDS, XML_MEDIA_TYPE, XSI, Gen, is_nil
from .._wire.timestamps import Timestamp, format_timestamp, parse_timestamp
from .._wire.unknown import EMPTY, Unknown, UnknownMember, merge, unknown_attr
from .._wire.validation import XML_ILLEGAL
from ._base import (
    compile_function,
    construct_lines,
    in_list,
    is_model,
    list_item_type,
    raise_invalid,
)

__all__ = [
    "NEWLINES",
    "XmlCodec",
    "configure_converter",
    "make_converter",
    "parse_document",
    "unmark",
]

T = TypeVar("T")
MEDIA_TYPE = XML_MEDIA_TYPE
XSD = "http://www.w3.org/2001/XMLSchema"
_NS_DECL = f' xmlns:xsd="{XSD}" xmlns:xsi="{XSI}"'
_ELEMENT_START = re.compile(rb"<[A-Za-z_:\x80-\xff]")

#: Refuse bodies larger than this before parsing (bytes).
DEFAULT_MAX_SIZE = 16 * 1024 * 1024

#: The ``newline`` values :class:`XmlCodec` accepts: keep every character (``None``), or
#: write every CR, LF and CRLF as a Windows (``"\r\n"``) or Mono (``"\n"``) server does.
NEWLINES = (None, "\r\n", "\n")


def _escape(text: str) -> str:
    # XmlWriter escapes & < > in text; \r is written as a character reference so that
    # the reader's line-end normalisation cannot turn it into \n.
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if "\r" in text:
        text = text.replace("\r", "&#xD;")
    return text


def _escape_fn(newline: str | None) -> Callable[[str], str]:
    """``_escape``, or XmlWriter's ``NewLineHandling.Replace`` with ``NewLineChars=newline``."""
    if newline is None:
        return _escape

    def escape(text: str) -> str:
        # Line ends first (no CR is left for _escape to turn into &#xD;), then the
        # markup; the markup escapes add no line end, so LF can be mapped last.
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _escape(text)
        if newline != "\n" and "\n" in text:
            text = text.replace("\n", newline)
        return text

    return escape


# -- character references to characters XML 1.0 forbids ---------------------------------
#
# A current ASP.NET Web API writes XML with CheckCharacters = false, so a string holding a
# control character arrives as a reference (&#x1;) that libxml2 refuses. Before parsing,
# each such reference is rewritten into two characters XML allows: the marker U+F0000
# followed by U+100000 plus the forbidden character. A marker the document itself holds
# (literally or by reference) is doubled, so the marker in parsed text always starts a
# pair and _unmark restores the text exactly. Only references change: literal control
# characters, DTDs and entities are refused as before.
_MARK = "\U000f0000"
_MARK_UTF8 = _MARK.encode()
_SHIFT = 0x100000
_REF = re.compile(rb"<!\[CDATA\[.*?\]\]>|&#(?:x([0-9A-Fa-f]{1,8})|([0-9]{1,10}));", re.S)
_REF_OR_MARK = re.compile(_REF.pattern + b"|" + re.escape(_MARK_UTF8), re.S)
_PAIR = re.compile(_MARK + "(.)", re.S)
_DECLARED_ENCODING = re.compile(rb"<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)", re.ASCII)
_XML_DECL = re.compile(r"\A\ufeff?<\?xml[^>]*\?>")


def _forbidden(code: int) -> bool:
    """A character XML 1.0 forbids that a Python string can hold (not a surrogate)."""
    return (code < 0x20 and code not in (0x9, 0xA, 0xD)) or code in (0xFFFE, 0xFFFF)


def _rewrite_ref(match: re.Match[bytes]) -> bytes:
    whole = match.group()
    if whole == _MARK_UTF8:
        return whole + whole
    if whole[:2] == b"<!":  # a CDATA section: no references inside, markers doubled
        return whole.replace(_MARK_UTF8, _MARK_UTF8 + _MARK_UTF8)
    hex_digits, digits = match.groups()
    code = int(hex_digits, 16) if hex_digits is not None else int(digits)
    if code == ord(_MARK):
        return whole + whole
    if _forbidden(code):  # as references, which read alike in every encoding
        return b"&#xF0000;&#x%X;" % (_SHIFT + code)
    return whole


def _rewrite_forbidden_refs(data: bytes) -> bytes:
    """``data`` with forbidden character references marked (see above); usually ``data``."""
    if data[:2] in (b"\xff\xfe", b"\xfe\xff") or data[:4] in (b"<\x00?\x00", b"\x00<\x00?"):
        # UTF-16 hides the ASCII of a reference: rewrite its UTF-8 form (declaration dropped).
        if b"&\x00#\x00" not in data and b"\x00&\x00#" not in data:
            return data
        try:
            text = data.decode(
                "utf-16"
                if data[:2] in (b"\xff\xfe", b"\xfe\xff")
                else "utf-16-le"
                if data[:1] == b"<"
                else "utf-16-be"
            )
        except UnicodeDecodeError as exc:
            raise DecodeError(f"malformed UTF-16: {exc.reason}", media_type=MEDIA_TYPE) from None
        data = _XML_DECL.sub("", text, count=1).encode("utf-8")
    # One-byte searches (memchr) first: "#" and the marker's lead byte are rare in bodies.
    maybe_ref = b"#" in data and b"&#" in data
    maybe_mark = b"\xf3" in data and _MARK_UTF8 in data
    if not maybe_ref and not maybe_mark:
        return data
    declared = _DECLARED_ENCODING.match(data)
    utf8 = declared is None or declared.group(1).lower().replace(b"_", b"-") in (b"utf-8", b"utf8")
    if not maybe_ref and not utf8:
        return data
    # In another ASCII-compatible encoding the marker can only come as a reference.
    return (_REF_OR_MARK if utf8 else _REF).sub(_rewrite_ref, data)


_FORBIDDEN_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _char_reference(match: re.Match[str]) -> str:
    return f"&#x{ord(match.group()):X};"


def _unmark_pair(match: re.Match[str]) -> str:
    c = match.group(1)
    return c if c == _MARK else chr(ord(c) - _SHIFT)


def unmark(text: str) -> str:
    """Text as the document meant it: forbidden characters restored (see ``parse_document``).

    Every reader of text from :func:`parse_document` calls it; a no-op almost always.
    """
    if _MARK in text:
        return _PAIR.sub(_unmark_pair, text)
    return text


def _bad(wire: str, message: str) -> DecodeError:
    return DecodeError(message, media_type=MEDIA_TYPE, field=wire)


def _text(el: Any, wire: str) -> str | None:
    """An element's text; ``None`` for ``xsi:nil``; ``""`` for an empty element."""
    t = el.text
    if len(el):
        raise _bad(wire, "expected text, got child elements")
    if t is None:
        return None if is_nil(el) else ""
    if _MARK in t:
        return unmark(t)
    return t  # type: ignore[no-any-return]


def _children_fn(cls: type, newline: str | None = None) -> Callable[[Any, str], str]:
    """Generate ``(model, newline_and_indent) -> child elements`` in XmlSerializer order."""
    ns: dict[str, Any] = {"_esc": _escape_fn(newline)}
    g = Gen(ns, lambda sub: _children_hook(sub, newline))
    lines = ["def children(o, nl):"]
    pieces = []
    for i, f in enumerate(xml_order(cls)):
        v, tag = f"v{i}", f.wire
        rules = KINDS[f.kind]
        lines.append(f"    {v} = o.{f.name}")
        # A null reference (string, class, list) is left out; a null Nullable<T> is
        # xsi:nil; a "not set" non-nullable value is left out.
        none = "''" if rules.reference or not f.nullable else f"nl + '<{tag} xsi:nil=\"true\" />'"
        if f.required and not rules.reference:
            lines.append(f"    if {v} is None: raise TypeError({tag!r})")
        lines.append(f"    if {v} is None: {v} = {none}")
        lines.append("    else:")
        lines.extend("        " + line for line in rules.xml_write(f, v, tag, g))
        pieces.append(v)
    if (u := unknown_attr(cls)) is not None:
        ns.update(_put_back=_put_back, _TAGS=tuple(f.wire for f in xml_order(cls)))
        lines.append(f"    if o.{u}.members:")
        lines.append(f"        return _put_back(({', '.join(pieces)},), _TAGS, o.{u}, nl)")
    lines.append("    return ''.join((" + ", ".join(pieces) + ",))")
    return compile_function("children", "\n".join(lines) + "\n", ns)


def _put_back(pieces: tuple[str, ...], tags: tuple[str, ...], unknown: Unknown, nl: str) -> str:
    """The child elements with the unknown ones back in place, as they came."""
    if unknown.format != "xml":
        # Validation names the members (raise_invalid asks it).
        raise TypeError(f"unknown members kept from {unknown.format}")
    return "".join(
        nl + v.raw if type(v) is UnknownMember else v
        for _, v in merge(list(zip(tags, pieces, strict=True)), unknown)
    )


# The two namespaces every document's root declares: lxml repeats their declarations on
# a child element it serializes alone, so they are taken out again.
_INHERITED = re.compile(f' xmlns:(?:xsi="{re.escape(XSI)}"|xsd="{re.escape(XSD)}")')
_EMPTY_END = re.compile(r"(?<=[^ /])/>")


def _element_text(el: Any) -> str:
    """An element as it came: its tag, attributes, namespaces and content.

    The root's ``xsi``/``xsd`` declarations are not repeated, empty elements end as
    XmlWriter ends them (``<X />``), and forbidden characters go back to references.
    """
    text: str = etree.tostring(el, encoding=str, with_tail=False)
    end = text.find(">")
    head = _INHERITED.sub("", text[:end])
    text = _EMPTY_END.sub(" />", head + text[end:])
    if _MARK in text:
        text = unmark(text)
    return text


def _keep_xml(root: Any, known: frozenset[str]) -> Unknown:
    """The child elements of ``root`` not in ``known``, with the known one each followed."""
    members = []
    after = None
    for el in root:
        tag = el.tag
        if tag in known:
            after = tag
        elif isinstance(tag, str):
            members.append(UnknownMember(tag, _element_text(el), after))
    return Unknown("xml", tuple(members))


def _structure_fn(cls: type, *, root: bool = True) -> Callable[..., Any]:
    """Generate ``lxml element -> model``: any order, extras ignored, strict on types.

    ``root``: check that the element is named after the class, as a document's root is
    (a nested model's element is named after its field instead).
    """
    ns: dict[str, Any] = {"_text": _text, "_DecodeError": DecodeError, "_MT": MEDIA_TYPE}
    g = Gen(ns, _nested_reader)
    name = cls.__name__
    lines = ["def structure(root, _type=None):"]
    if root:
        lines += [
            f"    if root.tag != {name!r}:",
            f"        raise _DecodeError('expected a <{name}> root element, got <' + str(root.tag) + '>', media_type=_MT)",
        ]
    lines += [
        "    els = {}",
        "    for el in root:",
        "        els[el.tag] = el",
        "    g = els.get",
    ]
    assignments: list[tuple[str, str]] = []
    if (u := unknown_attr(cls)) is not None:
        ns.update(_KNOWN=frozenset(f.wire for f in xml_order(cls)), _keep=_keep_xml)
        lines.append("    u = _keep(root, _KNOWN) if not _KNOWN.issuperset(els) else _EMPTY")
        ns["_EMPTY"] = EMPTY
        assignments.append((u, "u"))
    for i, f in enumerate(xml_order(cls)):
        v, w = f"v{i}", repr(f.wire)
        lines.append(f"    {v} = g({w})")
        lines.append(f"    if {v} is not None:")
        lines.extend("        " + line for line in KINDS[f.kind].xml_read(f, v, w, g))
        if f.required:
            lines.append(f"    if {v} is None:")
            lines.append(f"        raise _DecodeError('is required', media_type=_MT, field={w})")
        assignments.append((f.name, v))
    lines.extend(construct_lines(cls, assignments, ns))
    return compile_function("structure", "\n".join(lines) + "\n", ns)


@functools.cache
def _nested_reader(cls: type) -> Callable[..., Any]:
    """The reader of a nested model's element (named after its field, not its class)."""
    return _structure_fn(cls, root=False)


_children_cache: dict[tuple[type, str | None], Callable[[Any, str], str]] = {}


def _children_hook(cls: type, newline: str | None = None) -> Callable[[Any, str], str]:
    try:
        return _children_cache[cls, newline]
    except KeyError:
        fn = _children_cache[cls, newline] = _children_fn(cls, newline)
        return fn


def _document_fn(cls: type) -> Callable[..., str]:
    head = f"<{cls.__name__}{_NS_DECL}>"
    tail = f"</{cls.__name__}>"
    default = _children_hook(cls)

    def unstructure(obj: Any, pretty: bool = False, newline: str | None = None) -> str:
        children = default if newline is None else _children_hook(cls, newline)
        if pretty:
            nl = newline or "\n"
            return head + children(obj, nl + "  ") + nl + tail
        return head + children(obj, "") + tail

    return unstructure


def configure_converter(converter: cattrs.BaseConverter) -> None:
    """Teach ``converter`` XmlSerializer's rules for shopapi's models.

    The rules:

    * The root element is named after the class (``<MessageConversationChanges>``) and
      declares ``xmlns:xsd`` and ``xmlns:xsi``; no XML declaration, as ASP.NET's
      formatter writes none. List endpoints use an ``ArrayOf<Class>`` root.
    * Members come base class first (``Id`` ... ``ChannelId``, then ``ExternalKey`` ...
      ``Note``), named by their wire names.
    * Enums are written by name. An unknown name is kept as a ``str`` and written back
      as-is; an unknown *integer* (read from JSON) has no name and is refused.
    * Dates use .NET's round-trip form (see the JSON rules); booleans are ``true`` and
      ``false``.
    * A null ``int?``/``DateTime?``/``bool?`` is ``<Field xsi:nil="true" />``; a null
      string is left out; an empty string is ``<Field />``.
    * Decimals are ``XmlConvert.ToString``'s text: the scale kept (``12.50``, ``100``,
      ``0.000``), no exponent, no negative zero. They are read as ``XmlConvert`` reads
      them (a sign, digits, one point, no exponent); a value .NET's decimal cannot hold
      is refused both ways, naming the field.
    * A nested model is an element named after its field, holding its members in
      XmlSerializer order (``<BillTo><City>A</City></BillTo>``; ``<BillTo />`` when every
      member is left out); a null one is left out.
    * A list's members are elements named after their .NET type: ``<int>``,
      ``<string>``, ``<decimal>``, ``<boolean>``, ``<dateTime>``, or the model's class
      name (``<OrderRows><OrderRow>...</OrderRow></OrderRows>``). An empty list is
      ``<Children />``; a null list is left out; a null string member is
      ``<string xsi:nil="true" />``. On reading, members of another name are skipped
      (as XmlSerializer skips them) and a list is a tuple. XmlSerializer reads a list
      that is left out as an empty one; this reads it as ``None``, so that a body read
      and written back is unchanged. An error inside a nested model or a list names its
      path (``BillTo.City``, ``OrderRows[2].Id``).
    * Text escapes ``&``, ``<`` and ``>``; ``\\r`` goes out as ``&#xD;`` so that the
      reader's line-end normalisation cannot turn it into ``\\n`` (or, with
      ``XmlCodec(newline=...)``, every line end goes out as the server writes it).
      A character XML 1.0 forbids (a control character, U+FFFE, U+FFFF) goes out as a
      character reference (``&#x1;``), as XmlWriter writes it with
      ``CheckCharacters = false``: ASP.NET's XML formatter reads it back (the
      conformance suite checks that against the real reader). A strict XML 1.0 parser
      would refuse such a body; send those strings as JSON to reach one.
    * On reading, any element order is accepted, and ``xsi:nil``, a missing element and
      (for strings) nil all mean ``None``.
    * An element the model does not declare is kept (in its ``unknown`` field, a
      :class:`~shopapi.Unknown`) as it came: its tag, attributes, namespaces and content,
      after the known element it followed, and written back there, so a
      read-modify-write never drops a field the help pages do not show; in nested models
      and list items too. The root's ``xsi``/``xsd`` declarations are not repeated on it,
      and an empty element ends as XmlWriter ends one (``<X />``). Elements kept from
      JSON cannot be written as XML: a :class:`~shopapi.ValidationError` names them
      (:func:`~shopapi.drop_unknown` drops them on purpose). A
      character reference to a character XML 1.0 forbids (``&#x1;``, as a server
      writing with ``CheckCharacters = false`` sends) reads as that character.

    Reading is hardened in :func:`parse_document`: no DTDs, no entities, no network,
    bounded size and depth.
    """
    converter.register_unstructure_hook(datetime, format_timestamp)
    converter.register_structure_hook(
        Timestamp, lambda v, _: parse_timestamp(v.strip() if isinstance(v, str) else v)
    )
    converter.register_unstructure_hook_factory(is_model, _document_fn)
    converter.register_structure_hook_factory(is_model, _structure_fn)


def make_converter() -> cattrs.Converter:
    """A fresh cattrs converter configured by :func:`configure_converter`."""
    converter = cattrs.Converter()
    configure_converter(converter)
    return converter


_DEFAULT_CONVERTER = make_converter()
_local = threading.local()


class _RefuseExternal(etree.Resolver):
    """Answers every external entity or DTD with nothing, so that libxml2 never opens a
    file or a URL, whatever the parser options (``collect_ids=False`` alone makes
    libxml2 open a local file named by a parameter entity)."""

    # lxml-stubs 0.5 predates the ``context`` argument lxml passes and requires.
    def resolve(self, system_url: str, public_id: str, context: Any) -> Any:  # type: ignore[override]
        return self.resolve_string("", context)  # type: ignore[call-arg]


def _parser() -> etree.XMLParser:
    # lxml parsers must not be shared across threads; one per thread, made once.
    parser: etree.XMLParser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = etree.XMLParser(
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
            collect_ids=False,
        )
        parser.resolvers.add(_RefuseExternal())
    return parser


def parse_document(data: bytes, *, max_size: int = DEFAULT_MAX_SIZE) -> Any:
    """Parse untrusted XML into its root element, refusing anything dangerous.

    No DTD (so no entity of any kind), no network, no file, at most ``max_size``
    bytes, and libxml2's default depth limit. The one leniency: a character reference
    to a character XML 1.0 forbids (``&#x0;``, ``&#x1B;``, ``&#xFFFE;``), which a
    Web API server writing with ``CheckCharacters = false`` sends for every control
    character, is accepted; read the text of the elements with :func:`unmark` to get
    those characters back. Literal control characters are still refused.

    Raises:
        DecodeError: The body is empty, too large, malformed, or carries a DTD.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise DecodeError(f"expected bytes, got {type(data).__name__}", media_type=MEDIA_TYPE)
    if len(data) > max_size:
        raise DecodeError(
            f"body of {len(data)} bytes exceeds the {max_size}-byte limit", media_type=MEDIA_TYPE
        )
    data = bytes(data)
    if not data.strip():
        raise DecodeError("empty body", media_type=MEDIA_TYPE)
    doctype = data.find(b"<!DOCTYPE")
    if doctype != -1 and _ELEMENT_START.search(data, 0, doctype) is None:
        # Refused before libxml2 sees it: no DTD, so no entity of any kind.
        raise DecodeError("DTDs are refused (no entities are ever expanded)", media_type=MEDIA_TYPE)
    data = _rewrite_forbidden_refs(data)
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        raise DecodeError(
            f"malformed XML: {exc.msg}",
            media_type=MEDIA_TYPE,
            position=f"line {line}, column {column}",
        ) from None
    except (ValueError, etree.LxmlError) as exc:
        raise DecodeError(f"malformed XML: {exc}", media_type=MEDIA_TYPE) from None
    if root is None:
        raise DecodeError("no root element", media_type=MEDIA_TYPE)
    docinfo = root.getroottree().docinfo
    if getattr(docinfo, "doctype", None) or docinfo.internalDTD is not None:
        raise DecodeError("DTDs are refused (no entities are ever expanded)", media_type=MEDIA_TYPE)
    return root


class XmlCodec:
    """``application/xml`` as .NET's XmlSerializer writes it.

    Args:
        pretty: Indent like the API's help page. The default is compact, for the wire.
        converter: A cattrs converter already set up by :func:`configure_converter`;
            a shared default is used when omitted.
        max_size: The largest body :meth:`decode` will parse, in bytes.
        newline: How to write a CR, LF or CRLF in text. ``None`` (the default) keeps
            every character: LF as LF, CR as ``&#xD;``, so that the server reads exactly
            the string sent. ``"\\r\\n"`` or ``"\\n"`` write each of them as that,
            reproducing byte for byte what a Web API server writes on Windows or on
            Mono (its XmlWriter replaces every line end with ``Environment.NewLine``).
            The price: every CR sent then arrives as LF.

    Why ``None`` is the default: the server's XmlMediaTypeFormatter leaves
    ``NewLineHandling`` at ``Replace`` and ``NewLineChars`` at ``Environment.NewLine``, so
    its bytes depend on the OS it runs on, which the client cannot know; and any XML
    reader turns CRLF and CR into LF (XML 1.0, 2.11), so on read a CR is lost whatever
    the client does. Only ``&#xD;`` carries a CR to the server; JSON carries it both ways.
    """

    media_type = MEDIA_TYPE
    content_type = "application/xml; charset=utf-8"

    def __init__(
        self,
        *,
        pretty: bool = False,
        converter: cattrs.BaseConverter | None = None,
        max_size: int = DEFAULT_MAX_SIZE,
        newline: str | None = None,
    ):
        if newline not in NEWLINES:
            raise ConfigurationError(f"newline must be None, '\\r\\n' or '\\n', got {newline!r}")
        self.pretty = pretty
        self.max_size = max_size
        self.newline = newline
        self._converter = converter if converter is not None else _DEFAULT_CONVERTER
        self._unstructure: dict[type, Callable[..., str]] = {}
        self._structure: dict[Any, Callable[[Any, Any], Any]] = {}

    def __repr__(self) -> str:
        if self.newline is not None:
            return f"XmlCodec(pretty={self.pretty}, newline={self.newline!r})"
        return f"XmlCodec(pretty={self.pretty})"

    def encode(self, obj: Any) -> bytes:
        """Render ``obj`` (a model, or a list of models) as XmlSerializer would.

        Raises:
            ValidationError: A field cannot be written as XML (a lone surrogate, an
                enum integer with no known name, a wrong type).
        """
        try:
            if type(obj) is list:
                text = self._encode_list(obj)
            else:
                try:
                    fn = self._unstructure[type(obj)]
                except KeyError:
                    fn = self._unstructure[type(obj)] = self._converter.get_unstructure_hook(
                        type(obj)
                    )
                if self.newline is None:
                    text = fn(obj, self.pretty)
                else:
                    text = fn(obj, self.pretty, self.newline)
            if XML_ILLEGAL.search(text) is not None:
                # As XmlWriter with CheckCharacters = false writes them (the server's
                # reader takes them back); a lone surrogate stays unwritable.
                text = _FORBIDDEN_CHAR.sub(_char_reference, text)
                if XML_ILLEGAL.search(text) is not None:
                    raise ValueError("a lone surrogate, which no UTF-8 body can carry")
            return text.encode("utf-8")
        except Exception as exc:
            bad = obj if type(obj) is not list else _first_invalid(obj)
            raise_invalid(bad, "xml", exc)
            raise  # unreachable

    def _encode_list(self, items: list[Any]) -> str:
        if not items:
            raise ValueError("an empty list has no element type; nothing to name the root")
        cls = type(items[0])
        name = cls.__name__
        children = _children_hook(cls, self.newline)
        if any(type(x) is not cls for x in items):
            raise TypeError("a list must hold one model type")
        head = f"<ArrayOf{name}{_NS_DECL}>"
        tail = f"</ArrayOf{name}>"
        if self.pretty:
            nl = self.newline or "\n"
            body = "".join(
                f"{nl}  <{name}>" + children(x, nl + "    ") + f"{nl}  </{name}>" for x in items
            )
            return head + body + nl + tail
        return head + "".join(f"<{name}>" + children(x, "") + f"</{name}>" for x in items) + tail

    def encode_empty_list(self, cls: type) -> bytes:
        """The empty ``ArrayOf<cls>`` document (a list alone cannot name its type)."""
        return f"<ArrayOf{cls.__name__}{_NS_DECL} />".encode()

    def decode(self, data: bytes, cls: type[T]) -> T:
        """Read ``data`` as ``cls`` (a model class or ``list[Model]``).

        Raises:
            DecodeError: Empty, oversized, malformed or dangerous XML, the wrong root,
                or a field of the wrong type; the error names the field or position.
        """
        root = parse_document(data, max_size=self.max_size)
        item = list_item_type(cls)
        if item is None:
            result: T = self._structure_hook(cls)(root, cls)
            return result
        expected = f"ArrayOf{item.__name__}"
        if root.tag != expected:
            raise DecodeError(
                f"expected an <{expected}> root element, got <{root.tag}>", media_type=MEDIA_TYPE
            )
        fn = self._structure_hook(item)
        out = []
        for index, element in enumerate(root):
            try:
                out.append(fn(element, item))
            except DecodeError as exc:
                raise in_list(exc, index) from None
        return out  # type: ignore[return-value]

    def _structure_hook(self, cls: Any) -> Callable[[Any, Any], Any]:
        try:
            return self._structure[cls]
        except KeyError:
            if not is_model(cls):
                raise TypeError(f"{cls!r} is not a shopapi model") from None
            fn = self._structure[cls] = self._converter.get_structure_hook(cls)
            return fn


def _first_invalid(items: list[Any]) -> Any:
    from .._wire.validation import field_errors

    for item in items:
        if not is_model(type(item)) or field_errors(item, fmt="xml"):
            return item
    return items[0] if items else items

"""The two formats of GeoReport v2: JSON, and XML with the spec's element names.

One tree of plain values (dicts, lists, strings, numbers, booleans, None) is written either way,
so the two formats cannot drift apart: a list is written in XML as repeated elements named after
the list (``attributes`` → ``<attribute>``), ``None`` as an empty element, booleans as
``true``/``false`` as the spec's examples show them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

JSON = "json"
XML = "xml"
FORMATS = (JSON, XML)
CONTENT_TYPES = {JSON: "application/json; charset=utf-8", XML: "text/xml; charset=utf-8"}

# The element that each list's members are written as (the spec's singular of the list).
MEMBERS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


# Characters XML 1.0 cannot hold even escaped (a pasted control character would otherwise make
# the whole document unreadable to the client's parser).
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value: Any) -> None:
    """Write ``value`` into ``element``: a mapping as children, a list as repeated members."""
    if isinstance(value, Mapping):
        for name, child in value.items():
            _fill(ET.SubElement(element, name), child)
    elif isinstance(value, Sequence) and not isinstance(value, str):
        member = MEMBERS[element.tag]
        for child in value:
            _fill(ET.SubElement(element, member), child)
    else:
        element.text = _text(value)


def render(data: Any, fmt: str, *, root: str, status: int = 200) -> HttpResponse:
    """``data`` as the spec's document: JSON as it is, XML under the element ``root``."""
    if fmt == XML:
        element = ET.Element(root)
        _fill(element, data)
        body = ET.tostring(element, encoding="unicode")
        content = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}'
    else:
        content = json.dumps(data, ensure_ascii=False)
    return HttpResponse(content.encode(), status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error document: a list of ``{code, description}`` with the HTTP status as the
    code, one entry per problem (a 400 names the field in each description)."""
    listed = [{"code": status, "description": text} for text in descriptions]
    return render(listed, fmt, root="errors", status=status)


class Open311Error(Exception):
    """A refusal answered in the spec's error document (``errors``): the HTTP status and one
    description per problem."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(*descriptions)
        self.status = status
        self.descriptions = descriptions


def bad_field(field: str, message: str) -> Open311Error:
    """400 naming the field, as ``field: message`` (clients show the description as it is)."""
    return Open311Error(400, f"{field}: {message}")

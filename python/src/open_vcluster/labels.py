"""Kubernetes label selectors: parse, match and print them the way the server does.

``parse_selector("env in (prod,staging),tier!=cache")`` returns a :class:`Selector` whose
requirements are sorted by key; :meth:`Selector.matches` tests a label map, and ``str()`` gives
the canonical form (``==`` written ``=``, sets sorted and deduplicated).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, NoReturn

Operator = Literal["=", "!=", "in", "notin", "exists", "!exists"]

MAX_LABEL_NAME_LENGTH = 63
MAX_LABEL_VALUE_LENGTH = 63
MAX_LABEL_PREFIX_LENGTH = 253

_NAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]")
_DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_WHITESPACE = frozenset(" \t\n\r\f\v")
_DELIMITERS = frozenset("(),=!<>")


class SelectorError(ValueError):
    """A selector that cannot be parsed; :attr:`position` is the 0-based offset of the problem."""

    def __init__(self, selector: str, position: int, problem: str) -> None:
        super().__init__(f"invalid label selector {selector!r}: {problem} at offset {position}")
        self.selector = selector
        self.position = position


def label_key_problem(key: str) -> str | None:
    """What is wrong with a label key, or None when it is valid."""
    if not key:
        return "label key must not be empty"
    if key.count("/") > 1:
        return f"label key \"{key}\" must contain at most one '/'"
    name = key
    if "/" in key:
        prefix, name = key.split("/")
        if not prefix:
            return f"label key \"{key}\": prefix before '/' must not be empty"
        if len(prefix) > MAX_LABEL_PREFIX_LENGTH:
            return f'label key "{key}": prefix must be at most {MAX_LABEL_PREFIX_LENGTH} characters'
        if any(len(part) > 63 or not _DNS1123_LABEL.fullmatch(part) for part in prefix.split(".")):
            return f'label key "{key}": prefix "{prefix}" must be a DNS-1123 subdomain'
    if not name:
        return f'label key "{key}": name must not be empty'
    if len(name) > MAX_LABEL_NAME_LENGTH:
        return f'label key "{key}": name must be at most {MAX_LABEL_NAME_LENGTH} characters (got {len(name)})'
    if not _NAME.fullmatch(name):
        return (
            f"label key \"{key}\": name must consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """What is wrong with a label value, or None when it is valid (empty values are)."""
    if not value:
        return None
    if len(value) > MAX_LABEL_VALUE_LENGTH:
        return f"label value must be at most {MAX_LABEL_VALUE_LENGTH} characters (got {len(value)})"
    if not _NAME.fullmatch(value):
        return (
            f"label value \"{value}\" must be empty or consist of alphanumeric characters, '-', '_' or '.', "
            "and must start and end with an alphanumeric character"
        )
    return None


@dataclass(frozen=True)
class Requirement:
    """One AND-ed term of a selector."""

    key: str
    operator: Operator
    values: tuple[str, ...] = ()
    """One value for ``=`` and ``!=``, a sorted non-empty set for ``in`` and ``notin``, none otherwise."""

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label map satisfies this requirement (absent keys satisfy ``!=`` and ``notin``)."""
        present = self.key in labels
        value = labels.get(self.key)
        if self.operator == "exists":
            return present
        if self.operator == "!exists":
            return not present
        if self.operator == "=":
            return present and value == self.values[0]
        if self.operator == "!=":
            return not present or value != self.values[0]
        if self.operator == "in":
            return present and value in self.values
        return not present or value not in self.values

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!exists":
            return f"!{self.key}"
        if self.operator in ("=", "!="):
            return f"{self.key}{self.operator}{self.values[0]}"
        return f"{self.key} {self.operator} ({','.join(self.values)})"


@dataclass(frozen=True)
class Selector:
    """A parsed selector: the AND of its requirements (none matches everything)."""

    requirements: tuple[Requirement, ...]

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether a label map satisfies every requirement."""
        return all(r.matches(labels) for r in self.requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)


@dataclass(frozen=True)
class _Token:
    kind: str
    """identifier, (, ), ",", =, ==, !=, ! or end."""
    text: str
    position: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in _WHITESPACE:
            i += 1
            continue
        following = text[i + 1] if i + 1 < len(text) else ""
        if char in "(),":
            tokens.append(_Token(char, char, i))
            i += 1
        elif char in "=!":
            kind = char + "=" if following == "=" else char
            tokens.append(_Token(kind, kind, i))
            i += len(kind)
        elif char in "<>":
            raise SelectorError(text, i, f'operator "{char}" is not supported')
        else:
            end = i
            while end < len(text) and text[end] not in _WHITESPACE and text[end] not in _DELIMITERS:
                end += 1
            tokens.append(_Token("identifier", text[i:end], i))
            i = end
    tokens.append(_Token("end", "", len(text)))
    return tokens


def _describe(token: _Token) -> str:
    return "end of selector" if token.kind == "end" else f'"{token.text}"'


class _Parser:
    def __init__(self, text: str) -> None:
        self._text = text
        self._tokens = _tokenize(text)
        self._index = 0

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        if self._peek().kind == "end":
            return requirements
        while True:
            requirements.append(self._requirement())
            token = self._take()
            if token.kind == "end":
                return requirements
            if token.kind != ",":
                self._fail(token, f'expected "," or end of selector, found {_describe(token)}')

    def _peek(self) -> _Token:
        return self._tokens[self._index]

    def _take(self) -> _Token:
        token = self._peek()
        if token.kind != "end":
            self._index += 1
        return token

    def _fail(self, token: _Token, problem: str) -> NoReturn:
        raise SelectorError(self._text, token.position, problem)

    def _key(self) -> str:
        token = self._take()
        if token.kind != "identifier":
            self._fail(token, f"expected a label key, found {_describe(token)}")
        problem = label_key_problem(token.text)
        if problem:
            self._fail(token, problem)
        return token.text

    def _value(self, token: _Token) -> str:
        problem = label_value_problem(token.text)
        if problem:
            self._fail(token, problem)
        return token.text

    def _requirement(self) -> Requirement:
        if self._peek().kind == "!":
            self._take()
            return Requirement(self._key(), "!exists")
        key = self._key()
        token = self._peek()
        if token.kind in ("end", ","):
            return Requirement(key, "exists")
        if token.kind in ("=", "==", "!="):
            self._take()
            return Requirement(key, "!=" if token.kind == "!=" else "=", (self._single_value(token),))
        if token.kind == "identifier" and token.text in ("in", "notin"):
            self._take()
            operator: Operator = "in" if token.text == "in" else "notin"
            return Requirement(key, operator, self._value_set(token))
        self._fail(token, f'expected an operator (=, ==, !=, in, notin) after key "{key}", found {_describe(token)}')
        return None

    def _single_value(self, operator: _Token) -> str:
        # `k=` selects the empty value, as in Kubernetes.
        token = self._peek()
        if token.kind in ("end", ","):
            return ""
        if token.kind != "identifier":
            self._fail(token, f'expected a value after "{operator.text}", found {_describe(token)}')
        self._take()
        return self._value(token)

    def _value_set(self, operator: _Token) -> tuple[str, ...]:
        opening = self._take()
        if opening.kind != "(":
            self._fail(opening, f'expected "(" after "{operator.text}", found {_describe(opening)}')
        if self._peek().kind == ")":
            self._fail(self._peek(), f'the set of values for "{operator.text}" must not be empty')
        values: set[str] = set()
        while True:
            token = self._peek()
            if token.kind == "identifier":
                self._take()
                values.add(self._value(token))
            elif token.kind in (",", ")"):
                values.add("")
            else:
                self._fail(token, f'expected a value or ")" in the set for "{operator.text}", found {_describe(token)}')
            separator = self._take()
            if separator.kind == ")":
                return tuple(sorted(values))
            if separator.kind != ",":
                self._fail(
                    separator, f'expected "," or ")" in the set for "{operator.text}", found {_describe(separator)}'
                )


def parse_selector(text: str) -> Selector:
    """Parses an equality- or set-based selector; ``""`` matches everything.

    The selector is a comma-separated AND of ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``,
    ``k notin (a,b)``, ``k`` and ``!k``. Raises :class:`SelectorError` with the offset of the first problem.
    """
    requirements = sorted(_Parser(text).parse(), key=lambda r: r.key)
    return Selector(tuple(requirements))

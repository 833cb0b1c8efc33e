"""Split FIN text into messages, and each message into its blocks and block-4 fields.

Contract: :func:`split_messages` never raises. It accepts CRLF or LF, messages with or without
blocks 1-3 and 5, several messages in one text (RJE ``$`` separated or simply concatenated), block 4
written on one line, and ACK/NAK service messages (``{1:F21...}``) around user messages. What it
cannot make sense of is reported in ``RawMessage.notes`` (turned into findings by the caller), never
raised. It returns an empty list only when the text holds no block and no field tag at all.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# A field tag at the start of a line: two digits and an optional option letter (the FIN standard),
# three digits (bank headers such as ":940:") or "NS" (non-SWIFT fields some banks send in MT940).
# Matched with the newline before it (the text is split with a newline in front): a pattern that
# starts with a literal is searched for with a fast scan, where ``^`` in MULTILINE mode is tried at
# every position.
_FIELD_START = re.compile(r"\n:(\d{2}[A-Za-z]?|\d{3}|NS):")
_INLINE_TAG = re.compile(r":(\d{2}[A-Z]?):")
_BLOCK_START = re.compile(r"\{([0-9A-Z]{1,3}):")
_ANY_BLOCK = re.compile(r"\{[1-5]:")
_RJE_SPLIT = re.compile(r"^\$[ \t]*$", re.MULTILINE)
_END_OF_TEXT = re.compile(r"^-[ \t]*$", re.MULTILINE)
_SERVICE_ACK = "21"
# One message laid out by the book, with the whitespace around it: basic header, optional application
# and user headers, a text block (up to its "-}") or a service message's {tag:value} block, optional
# trailer block 5 and optional user trailer {S:...}.
_NESTED = r"((?:\{[^{}:]*:[^{}]*\})*)"
_CANONICAL = re.compile(
    r"[ \n\t]*\{1:([^{}]*)\}(?:\{2:([^{}]*)\})?(?:\{3:" + _NESTED + r"\})?"
    r"\{4:(?:((?!\{)[^{}]*)-\}|((?:\{[^{}:]*:[^{}]*\})+)\})"
    r"(?:\{5:" + _NESTED + r"\})?(?:\{S:" + _NESTED + r"\})?[ \n\t]*"
)


@dataclass(slots=True)
class RawField:
    """One block-4 field: tag (e.g. ``"32A"``), value lines joined with ``\\n``, position in the text."""

    tag: str
    value: str
    line: int  # line number of the tag within block 4 (1-based), for provenance


# The text-block reader makes one RawField per field: object.__new__ and three slot stores cost
# less than a call of the generated __init__ (which the type call makes from C).
_new_object = object.__new__


@dataclass(slots=True, init=False)
class RawMessage:
    block1: str | None = None
    block2: str | None = None
    block3: list[tuple[str, str]] = field(default_factory=list)
    fields: list[RawField] = field(default_factory=list)
    block5: list[tuple[str, str]] = field(default_factory=list)
    user_trailer: list[tuple[str, str]] = field(default_factory=list)  # {S:...}
    service_fields: list[tuple[str, str]] = field(default_factory=list)  # block 4 of an ACK/NAK
    acks: list[RawMessage] = field(default_factory=list)  # ACK/NAK service messages found around it
    has_block4: bool = False
    notes: list[tuple[str, str]] = field(default_factory=list)  # (code, message) parse problems

    def __init__(
        self,
        block1: str | None = None,
        block2: str | None = None,
        block3: list[tuple[str, str]] | None = None,
        fields: list[RawField] | None = None,
        block5: list[tuple[str, str]] | None = None,
        user_trailer: list[tuple[str, str]] | None = None,
        service_fields: list[tuple[str, str]] | None = None,
        acks: list[RawMessage] | None = None,
        has_block4: bool = False,
        notes: list[tuple[str, str]] | None = None,
    ) -> None:
        # The generated __init__ calls each default factory (list()); empty list displays are cheaper.
        self.block1 = block1
        self.block2 = block2
        self.block3 = [] if block3 is None else block3
        self.fields = [] if fields is None else fields
        self.block5 = [] if block5 is None else block5
        self.user_trailer = [] if user_trailer is None else user_trailer
        self.service_fields = [] if service_fields is None else service_fields
        self.acks = [] if acks is None else acks
        self.has_block4 = has_block4
        self.notes = [] if notes is None else notes

    @property
    def is_service(self) -> bool:
        b1 = self.block1 or ""
        return len(b1) >= 3 and b1[1:3] == _SERVICE_ACK and self.block2 is None


def _normalise(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\x01" in text or "\x03" in text:
        # SOH/ETX framing of RJE and transmission files: a message boundary, not content
        text = text.replace("\x01", "\n").replace("\x03", "\n")
    return text


def _parse_nested(text: str, pos: int) -> tuple[list[tuple[str, str]], int, bool]:
    """Read ``{tag:value}{tag:value}...}`` from ``pos`` (just after ``{N:``).

    Returns the pairs, the index after the closing brace, and whether the block was well formed.
    Content that is not a ``{tag:value}`` group is kept as a pair with an empty tag.
    """
    pairs: list[tuple[str, str]] = []
    n = len(text)
    ok = True
    while pos < n:
        ch = text[pos]
        if ch == "}":
            return pairs, pos + 1, ok
        if ch == "{":
            end = text.find("}", pos + 1)
            if end < 0:
                pairs.append(("", text[pos + 1 :]))
                return pairs, n, False
            inner = text[pos + 1 : end]
            tag, sep, value = inner.partition(":")
            if sep:
                pairs.append((tag, value))
            else:
                pairs.append(("", inner))
                ok = False
            pos = end + 1
            continue
        # free text directly inside the block (e.g. "{3:abc}"): keep it up to the next brace
        nxt = min((i for i in (text.find("{", pos), text.find("}", pos)) if i >= 0), default=n)
        chunk = text[pos:nxt]
        if chunk.strip():
            pairs.append(("", chunk))
            ok = False
        pos = nxt
    return pairs, n, False


def parse_text_block(body: str, notes: list[tuple[str, str]]) -> list[RawField]:
    """Split block-4 text into fields. Lines before the first tag are reported in ``notes``."""
    if "\\n" in body and "\n" not in body.strip("\n"):
        # JSON-escaped messages ("\n" as two characters) read as if the escapes were newlines
        body = body.replace("\\r\\n", "\n").replace("\\n", "\n")
        notes.append(("ESCAPED_NEWLINES", "block 4 used literal '\\n' escapes as line breaks"))
    stripped = body.strip("\n")
    if stripped and "\n" not in stripped and _INLINE_TAG.match(stripped):
        return _inline_fields(stripped)
    # One split instead of a match object per field: [before, tag1, value1, tag2, value2, ...]. Tags
    # start a line: the newline before each is part of the separator (hence the one put in front), so
    # each value lacks the line break that ended it and counts one line more than its newlines.
    parts = _FIELD_START.split("\n" + body)
    if len(parts) == 1:
        if body.strip(" \n-"):
            notes.append(("UNEXPECTED_TEXT", "block 4 holds text but no field tag"))
        return []
    before = parts[0]
    if before.strip(" \n-"):
        notes.append(("UNEXPECTED_TEXT", "text before the first field tag was ignored"))
    fields: list[RawField] = []
    append = fields.append
    line = 1 + before.count("\n")
    # Most values are one line, ending neither in a newline nor in "-": the tests below spare them
    # the method calls (this loop runs for every field of every message).
    for tag, raw in zip(parts[1::2], parts[2::2], strict=True):
        if tag[-1] >= "a":  # a lower-case option letter (digits and upper case sort before "a")
            tag = tag.upper()
        f = _new_object(RawField)
        if "\n" in raw:
            # trailing empty lines and the end-of-text "-" line belong to no field
            value = raw.rstrip("\n")
            if value[-2:] == "\n-":
                value = value[:-2].rstrip("\n")
            f.tag, f.value, f.line = tag, value, line
            line += raw.count("\n") + 1
        else:
            f.tag, f.value, f.line = tag, raw, line
            line += 1
        append(f)
    return fields


def _inline_fields(body: str) -> list[RawField]:
    """Block 4 written on one line (``:20:ABC:21:DEF:32A:...``)."""
    fields: list[RawField] = []
    matches = list(_INLINE_TAG.finditer(body))
    for i, m in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(body)
        value = body[m.end() : end]
        if value.endswith("-"):
            value = value[:-1]
        fields.append(RawField(m.group(1), value, 1))
    return fields


def _read_block4(text: str, pos: int, msg: RawMessage) -> int:
    """Read a text block from ``pos`` (after ``{4:``); return the index after its end."""
    if text.startswith("{", pos):  # service message block 4: {177:...}{451:0}
        pairs, end, ok = _parse_nested(text, pos)
        msg.service_fields = pairs
        if not ok:
            msg.notes.append(("BLOCK_FORMAT", "block 4 of a service message is malformed"))
        return end
    end = text.find("-}", pos)
    if end < 0:
        # no terminator: the block runs to the next message start or the end of the text
        nxt = text.find("{1:", pos)
        end = nxt if nxt >= 0 else len(text)
        msg.notes.append(("BLOCK_UNTERMINATED", "block 4 has no '-}' terminator"))
        msg.fields = parse_text_block(text[pos:end], msg.notes)
        return end
    msg.fields = parse_text_block(text[pos:end], msg.notes)
    return end + 2


def _split_blocks(text: str) -> list[RawMessage]:
    messages: list[RawMessage] = []
    msg = RawMessage()
    seen: set[str] = set()  # block ids already read into ``msg``
    skipped = 0
    pos = 0
    n = len(text)
    while pos < n:
        m = _BLOCK_START.match(text, pos)
        if m is None:
            ch = text[pos]
            if not ch.isspace() and ch not in "}$":
                skipped += 1
            nxt = text.find("{", pos + 1)
            if nxt < 0:
                if text[pos:].strip(" \n\t}$"):
                    skipped += 1
                break
            if text[pos:nxt].strip(" \n\t}$"):
                skipped += 1
            pos = nxt
            continue
        block_id = m.group(1)
        # a repeated block, or a basic header after anything, starts the next message
        if block_id in seen or (block_id == "1" and seen):
            messages.append(msg)
            msg = RawMessage()
            seen = set()
        seen.add(block_id)
        pos = m.end()
        if block_id in ("1", "2"):
            end = text.find("}", pos)
            brace = text.find("{", pos)
            if end < 0 or (0 <= brace < end):
                end = brace if brace >= 0 else n
                msg.notes.append(("BLOCK_FORMAT", f"block {block_id} is not closed"))
                value, pos = text[m.end() : end], end
            else:
                value, pos = text[m.end() : end], end + 1
            if block_id == "1":
                msg.block1 = value.strip()
            else:
                msg.block2 = value.strip()
        elif block_id == "4":
            msg.has_block4 = True
            pos = _read_block4(text, pos, msg)
        else:
            pairs, pos, ok = _parse_nested(text, pos)
            if block_id == "3":
                msg.block3 = pairs
            elif block_id == "5":
                msg.block5 = pairs
            else:
                msg.user_trailer.extend(pairs)
            if not ok:
                msg.notes.append(("BLOCK_FORMAT", f"block {block_id} is malformed"))
    messages.append(msg)
    result = [x for x in messages if x.block1 is not None or x.block2 is not None or x.has_block4]
    if skipped and result:
        result[-1].notes.append(("UNEXPECTED_TEXT", "text outside the FIN blocks was ignored"))
    return result


def _split_blockless(text: str) -> list[RawMessage]:
    """Messages without blocks: RJE ``$`` chunks, each split at ``-`` lines and at each new ``:20:``."""
    messages: list[RawMessage] = []
    chunks = [part for rje in _RJE_SPLIT.split(text) for part in _END_OF_TEXT.split(rje)]
    for chunk in chunks:
        notes: list[tuple[str, str]] = []
        fields = parse_text_block(chunk, notes)
        current: list[RawField] = []
        seen_20 = False
        for f in fields:
            if f.tag == "20" and seen_20:
                messages.append(RawMessage(fields=current, has_block4=True, notes=notes))
                current, notes = [], []
                seen_20 = False
            seen_20 = seen_20 or f.tag == "20"
            current.append(f)
        if current and not seen_20 and messages:
            # a fragment without :20: after a stray "-" continues the message before it
            messages[-1].fields.extend(current)
            messages[-1].notes.extend(notes)
        elif current:
            messages.append(RawMessage(fields=current, has_block4=True, notes=notes))
    return messages


def _attach_service_messages(messages: list[RawMessage]) -> list[RawMessage]:
    """ACK/NAK messages describe the user message that follows them (or precedes, at the end)."""
    users: list[RawMessage] = []
    pending: list[RawMessage] = []
    for msg in messages:
        if msg.block2 is None and msg.is_service:  # user messages have block 2: no property call
            pending.append(msg)
            continue
        if pending:
            msg.acks.extend(pending)
            pending = []
        users.append(msg)
    if pending:
        if users:
            users[-1].acks.extend(pending)
        else:
            users.extend(pending)  # only service messages: report them as such
    return users


def _by_the_book(text: str) -> list[RawMessage] | None:
    """The messages of ``text`` read in one pass each, when every one is laid out by the book.

    Most inputs are one or more messages written ``{1:..}{2:..}{3:{..}}{4:..-}{5:{..}}{S:{..}}``
    (blocks 2, 3, 5 and S optional, ACK/NAK service messages with a ``{4:{177:..}{451:..}}``
    block), separated by nothing but whitespace. For those this gives exactly what
    :func:`_split_blocks` gives (the pattern admits only what that reader takes without a note);
    for anything else it returns None and the general reader decides.
    """
    messages: list[RawMessage] = []
    pos, n = 0, len(text)
    while pos < n:
        m = _CANONICAL.match(text, pos)
        if m is None:
            return None
        block1, block2, block3, body, service, block5, trailer = m.groups()
        # every slot set here, without a call of __init__ (one message per text, as a rule)
        msg = _new_object(RawMessage)
        msg.block1 = block1.strip()
        msg.block2 = None if block2 is None else block2.strip()
        msg.block3 = _pairs(block3) if block3 else []
        msg.block5 = _pairs(block5) if block5 else []
        msg.user_trailer = _pairs(trailer) if trailer else []
        msg.acks = []
        msg.has_block4 = True
        msg.notes = []
        if service is not None:
            msg.service_fields = _pairs(service)
            msg.fields = []
        else:
            msg.service_fields = []
            msg.fields = parse_text_block(body, msg.notes)
        messages.append(msg)
        pos = m.end()
    return messages or None


def _pairs(groups: str) -> list[tuple[str, str]]:
    """``{tag:value}{tag:value}`` (each group known to hold a colon) as (tag, value) pairs."""
    if "}{" not in groups:  # one group, as block 3 often is
        tag, _, value = groups[1:-1].partition(":")
        return [(tag, value)]
    pairs: list[tuple[str, str]] = []
    for group in groups[1:-1].split("}{"):
        tag, _, value = group.partition(":")
        pairs.append((tag, value))
    return pairs


def split_messages(text: str) -> list[RawMessage]:
    """Every message in ``text`` (see the module docstring); ACK/NAKs are attached, not listed."""
    text = _normalise(text)
    messages = _by_the_book(text) if text.lstrip(" \n\t").startswith("{1:") else None
    if messages is None:
        messages = _split_blocks(text) if _ANY_BLOCK.search(text) else _split_blockless(text)
    return _attach_service_messages(messages)

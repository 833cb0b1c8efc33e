"""Document work in a worker process that a runaway cannot take the service down with.

Contract: :func:`extract_sandboxed` ``(data, source) -> list[dict]`` (canonical extractions as JSON
dicts), :func:`render_sandboxed` ``(data, source, dpi, pages=None) -> list[PageImage]`` and
:func:`page_sizes_sandboxed` ``(data, source) -> [(number, width, height)]`` do what
:func:`tools.extract.extract_bytes`, :func:`tools.documents.render_pages` and
:func:`tools.documents.render.page_sizes` do, in a child process
that runs under an address-space limit (``RLIMIT_AS``, ``doc_memory_mb``) and a CPU-time limit, and
is killed when it runs past ``doc_timeout_s`` of wall time. They raise the same typed errors as the
in-process functions; a child killed for time, memory or a crash becomes a :class:`DocumentError`
(422) naming the limit.

Why a process: the limits in :mod:`tools.documents.limits` catch the known shapes of a hostile
document before the work starts, but qpdf, PDFium, PIL and tesseract are large C and Python
code bases; the only bound that holds for an input nobody has thought of yet is one the operating
system enforces. Children are forked from a ``forkserver`` that has already imported the readers
(a fork costs milliseconds, not the second an import takes), never from the service process, whose
threads may hold locks. At most ``DOC_WORKERS`` children run at once, so a burst of uploads queues
rather than multiplying the memory bound.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from tools.documents import limits
from tools.errors import DocumentError, RepairDeskError

_PRELOAD = ["tools.documents.sandbox_boot"]
_CONTEXT: Any = None
_CONTEXT_LOCK = threading.Lock()
_SLOTS: threading.BoundedSemaphore | None = None


def _slots() -> threading.BoundedSemaphore:
    """At most ``DocumentLimits.workers`` sandbox processes at once in this process."""
    global _SLOTS
    with _CONTEXT_LOCK:
        if _SLOTS is None:
            _SLOTS = threading.BoundedSemaphore(max(1, limits.limits().workers))
        return _SLOTS


def _context() -> Any:
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            _CONTEXT = context
        return _CONTEXT


def _error_types() -> dict[str, type[RepairDeskError]]:
    import tools.errors as errors

    return {
        name: value
        for name, value in vars(errors).items()
        if isinstance(value, type) and issubclass(value, RepairDeskError)
    }


def _limit_self(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    memory = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 2))


def _adopt(state: tuple[Any, Any] | None) -> None:
    """The child is forked from the fork server, not from the caller: take over the caller's
    configuration (document limits, folders) and the layout rules it has learned."""
    if state is None:
        return
    from tools import config
    from tools.documents import learned

    tool_config, rules = state
    config.configure(tool_config)
    learned.set_provider(lambda: rules)


def _caller_state(operation: str) -> tuple[Any, Any]:
    from tools import config
    from tools.documents import learned

    rules = list(learned.current_rules()) if operation == "extract" else []
    return config.current(), rules


def _work(operation: str, data: bytes, source: str, dpi: int, pages: list[int] | None = None) -> Any:
    if operation == "extract":
        from tools.extract import extract_bytes

        return [e.to_json_dict() for e in extract_bytes(data, source)]
    if operation == "render":
        from tools.documents.render import render_pages

        return render_pages(data, source, dpi=dpi, pages=pages)
    if operation == "sizes":
        from tools.documents.render import page_sizes

        return page_sizes(data, source)
    raise ValueError(operation)


def _child(
    conn: Connection,
    operation: str,
    data: bytes,
    source: str,
    dpi: int,
    memory_mb: int,
    cpu: int,
    state: tuple[Any, Any] | None = None,
    pages: list[int] | None = None,
) -> None:
    """Runs in the forked child: set the limits, do the work, send ``("ok", result)`` or an error."""
    try:
        _adopt(state)
        _limit_self(memory_mb, cpu)
        result: tuple[Any, ...] = ("ok", _work(operation, data, source, dpi, pages))
    except RepairDeskError as exc:
        result = ("error", type(exc).__name__, exc.reason, exc.source)
    except MemoryError:
        result = ("memory",)
    except Exception as exc:  # a reader bug: typed for the caller, with the exception's class name
        reason = (
            f"the document could not be read ({type(exc).__name__}; limits: {memory_mb} MB of memory, "
            f"{cpu} s of CPU for one document)"
        )
        result = ("error", "DocumentError", reason, source)
    try:
        conn.send(result)
    except MemoryError:
        conn.send(("memory",))
    finally:
        conn.close()


def _raise(reply: tuple[Any, ...], source: str, memory_mb: int) -> Any:
    if reply[0] == "ok":
        return reply[1]
    if reply[0] == "memory":
        raise DocumentError(
            f"needs more than the {memory_mb} MB memory limit for one document", source=source
        )
    _, name, reason, origin = reply
    error_type = _error_types().get(name, DocumentError)
    raise error_type(reason, source=origin)


def run_sandboxed(
    operation: str,
    data: bytes,
    source: str,
    *,
    dpi: int = 100,
    timeout_s: float | None = None,
    memory_mb: int | None = None,
    pages: list[int] | None = None,
) -> Any:
    """Run ``operation`` (``extract``, ``render`` or ``sizes``) on ``data`` in a limited child; see the
    module. ``pages`` limits ``render`` to those 1-based page numbers."""
    timeout = float(timeout_s if timeout_s is not None else limits.limits().doc_timeout_s)
    memory = int(memory_mb if memory_mb is not None else limits.limits().doc_memory_mb)
    context = _context()
    with _slots():
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_child,
            args=(
                sender,
                operation,
                data,
                source,
                dpi,
                memory,
                int(timeout) + 1,
                _caller_state(operation),
                pages,
            ),
            name=f"repairdesk-doc-{operation}",
            daemon=True,
        )
        deadline = time.monotonic() + timeout
        process.start()
        sender.close()
        try:
            reply: tuple[Any, ...] | None = None
            if receiver.poll(max(0.0, deadline - time.monotonic())):
                try:
                    reply = receiver.recv()
                except EOFError:  # the child died without answering: killed, or crashed
                    reply = None
            if reply is None:
                process.join(0.05)
                if process.exitcode is None:
                    raise DocumentError(
                        f"processing ran past the {timeout:g} s time limit for one document", source=source
                    )
                raise DocumentError(
                    f"processing stopped (exit {process.exitcode}): over the {memory} MB memory or "
                    f"{timeout:g} s time limit for one document",
                    source=source,
                )
            return _raise(reply, source, memory)
        finally:
            receiver.close()
            if process.is_alive():
                process.kill()
            process.join(5)
            if hasattr(process, "close") and process.exitcode is not None:
                process.close()


def extract_sandboxed(data: bytes, source: str, **kwargs: Any) -> list[dict[str, Any]]:
    """Canonical extractions (JSON dicts) of ``data``, computed in a limited child process."""
    result: list[dict[str, Any]] = run_sandboxed("extract", data, source, **kwargs)
    return result


def render_sandboxed(data: bytes, source: str, dpi: int = 100, **kwargs: Any) -> list[Any]:
    """Page images of ``data`` (:class:`tools.documents.render.PageImage`), rendered in a limited child."""
    result: list[Any] = run_sandboxed("render", data, source, dpi=dpi, **kwargs)
    return result


def page_sizes_sandboxed(data: bytes, source: str, **kwargs: Any) -> list[tuple[int, float, float]]:
    """Each page's ``(number, width, height)`` (:func:`tools.documents.render.page_sizes`), in a child."""
    result: list[tuple[int, float, float]] = run_sandboxed("sizes", data, source, **kwargs)
    return result

"""Group commit: many threads' short write transactions run as few transactions by one thread.

SQLite has one writer at a time. When each request thread takes the writer lock itself, the lock
is held while that thread waits for the GIL behind the other request threads of its process, so a
write of half a millisecond keeps the lock for several, and every POST queues behind that. Here
request threads hand their work to one writer thread per process and wait; the writer takes all the
work that is waiting, runs it in one transaction under the lock (:class:`~app.db.session.
SqliteWriteLock`, which also excludes the other server processes), commits once and answers each
caller. Under load a batch holds as many cases as are waiting; alone, a batch is one piece of work.

A batch is all or nothing in the database. When it fails, each piece is rerun alone, in its own
transaction, so that one bad piece (a duplicate key from a racing retry, say) fails only its own
caller, with its own exception, and the others still commit.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager
from typing import Any, TypeVar

from sqlalchemy.orm import Session

T = TypeVar("T")
Work = Callable[[Session], Any]

MAX_BATCH = 64  # bounds one transaction (and so a batch's lock hold) under a flood of POSTs


class GroupCommit:
    """``run(work)``: ``work(session)`` adds rows without committing; it is committed with whatever
    other work is waiting, and ``run`` returns its result (or raises its exception) after the commit.
    ``work`` may run twice (alone, after its batch failed and was rolled back): it must act only
    through ``session``.

    ``new_session`` makes the writer's sessions; ``lock`` is held around each transaction. The
    writer thread starts on first use in each process (a forked child starts its own)."""

    def __init__(
        self,
        new_session: Callable[[], Session],
        lock: AbstractContextManager[object],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._new_session = new_session
        self._lock = lock
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[Work, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._start_lock = threading.Lock()
        self.committed = 0  # pieces of work committed
        self.batches = 0  # transactions committed for more than one piece of work

    def run(self, work: Callable[[Session], T]) -> T:
        """Commit ``work`` (see the class docstring); blocks until it is committed or has failed."""
        self._ensure_thread()
        done: Future[T] = Future()
        self._queue.put((work, done))
        return done.result()

    def close(self, timeout: float = 10.0) -> None:
        """Finish the work already handed in, then stop the writer thread."""
        thread = self._thread
        if thread is not None and thread.is_alive() and self._pid == os.getpid():
            self._queue.put(None)
            thread.join(timeout)
        self._thread = None

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._pid == os.getpid() and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or self._pid != os.getpid() or not self._thread.is_alive():
                if self._pid != os.getpid():  # a forked child: the parent's queue is not ours
                    self._queue = queue.SimpleQueue()
                self._pid = os.getpid()
                thread = threading.Thread(target=self._loop, name="repairdesk-group-commit", daemon=True)
                thread.start()
                self._thread = thread

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    stop = True
                    break
                batch.append(item)
            self._commit([(work, done) for work, done in batch if done.set_running_or_notify_cancel()])
            if stop:
                return

    def _commit(self, batch: list[tuple[Work, Future[Any]]]) -> None:
        if len(batch) > 1:
            try:
                results = self._transaction([work for work, _ in batch])
            except BaseException:  # rolled back; each piece is retried alone below
                pass
            else:
                self.batches += 1
                self.committed += len(batch)
                for (_, done), result in zip(batch, results, strict=True):
                    done.set_result(result)
                return
        for work, done in batch:
            try:
                (result,) = self._transaction([work])
            except BaseException as exc:  # handed to the caller, whose thread raises it
                done.set_exception(exc)
            else:
                self.committed += 1
                done.set_result(result)

    def _transaction(self, works: list[Work]) -> list[Any]:
        with self._lock:
            session = self._new_session()
            try:
                results = [work(session) for work in works]
                session.commit()
                return results
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

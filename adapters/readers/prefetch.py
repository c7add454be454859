"""Reading ahead: the next batch is parsed in a thread (pyarrow parses and decodes without the
GIL) while the current one is validated."""

from __future__ import annotations

import queue
import threading


def prefetch(produce, depth: int = 2):
    """Iterate `produce()` results ahead in a thread (pyarrow parses without the GIL) until it
    returns an item whose first element is None, which is passed on and ends the iteration."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def work() -> None:
        try:
            while not stop.is_set():
                item = produce()
                q.put(item)
                if item[0] is None:
                    return
        except BaseException as exc:  # handed to the consumer, which re-raises it
            q.put(exc)

    thread = threading.Thread(target=work, name="lading-csv-prefetch", daemon=True)
    thread.start()

    def gen():
        try:
            while True:
                item = q.get()
                if isinstance(item, BaseException):
                    raise item
                yield item
                if item[0] is None:
                    return
        finally:
            stop.set()
            while thread.is_alive():
                try:
                    q.get(timeout=0.05)
                except queue.Empty:
                    pass
            thread.join()

    return gen()

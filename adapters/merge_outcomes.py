"""What a merge did to each row of a chunk (SPEC §8 per-row results), for both SQL destinations.

Inside the merge's transaction, before its write, one query tells for each row (in the chunk's
key order) whether its key is stored and whether its values differ from the stored ones, by the
same comparison the write uses. These helpers turn that into outcome words, check them against
the write's own exact counts, and put them back in the order the rows were given.
"""

from __future__ import annotations

import numpy as np

from lading.adapters.arrow_chunks import MergeChunk
from lading.application.ports import MergeCounts

# A row that another writer's key kept out after validation checked it is told by its key code.
_MISSING = {"upsert": "inserted", "insert": "inserted", "update": "KEY_NOT_FOUND",
            "delete": "KEY_NOT_FOUND"}
_FOUND_SAME = {"upsert": "unchanged", "insert": "KEY_EXISTS", "update": "unchanged",
               "delete": "deleted"}
_FOUND_CHANGED = {"upsert": "updated", "insert": "KEY_EXISTS", "update": "updated",
                  "delete": "deleted"}


class OutcomesRaced(Exception):
    """The rows' classification disagrees with what the write did: another transaction changed
    those keys in between (PostgreSQL's READ COMMITTED); the merge is rolled back and redone."""


def outcome_words(operation: str, found: np.ndarray, changed: np.ndarray) -> np.ndarray:
    """Each row's outcome, in the chunk's (key) order, from whether its key was stored and
    whether its values differ from the stored ones."""
    words = np.full(len(found), _MISSING[operation], dtype=object)
    words[found & ~changed] = _FOUND_SAME[operation]
    words[found & changed] = _FOUND_CHANGED[operation]
    return words


def all_inserted(chunk: MergeChunk) -> np.ndarray:
    return np.full(chunk.num_rows, "inserted", dtype=object)


def check_against(words: np.ndarray, counts: MergeCounts) -> None:
    tally = {word: int((words == word).sum()) for word in ("inserted", "updated", "unchanged",
                                                           "deleted")}
    if tally != {"inserted": counts.inserts, "updated": counts.updates,
                 "unchanged": counts.unchanged, "deleted": counts.deletes}:
        raise OutcomesRaced(f"rows classified {tally}, but the merge counted {counts}")


def in_given_order(words: np.ndarray, chunk: MergeChunk) -> list[str]:
    """The outcomes in the order of the rows as given to prepare_chunk (the staged order)."""
    if chunk.source_order is None:
        return words.tolist()
    given = np.empty(len(words), dtype=object)
    given[chunk.source_order] = words
    return given.tolist()

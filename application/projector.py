"""Feeds the application's notification log, in order, into the read models.

SQLite recorders have no subscriptions, so every reader pulls: `catch_up` reads what was
recorded after the stored position and applies it together with the new position in one
transaction (compare-and-set), so no event is applied twice even with several processes.
"""

from __future__ import annotations

from typing import Any

from lading.application.projections import ReadModelStore, apply_event

PROJECTION = "job_status"


class Projector:
    def __init__(self, app: Any, store: ReadModelStore, batch_size: int = 500) -> None:
        self.app = app
        self.store = store
        self.batch_size = batch_size

    def catch_up(self) -> int:
        """Apply every event not yet applied; return how many were applied."""
        applied = 0
        while True:
            position = self.store.position(PROJECTION)
            if position >= (self.app.recorder.max_notification_id() or 0):
                return applied
            notifications = self.app.notification_log.select(start=position + 1, limit=self.batch_size)
            if not notifications:
                return applied
            docs: dict[str, dict[str, Any]] = {}
            for notification in notifications:
                event = self.app.mapper.to_domain_event(notification)
                job_id = str(event.originator_id)
                current = docs.get(job_id) or self.store.get(job_id)
                docs[job_id] = apply_event(current, event)
            if self.store.apply(PROJECTION, position, notifications[-1].id, docs):
                applied += len(notifications)
            # else: another process moved the position first; read again from there


def rebuild(app: Any, fresh_store: ReadModelStore) -> None:
    """Build the read models from the whole history into an empty store."""
    fresh_store.clear()
    Projector(app, fresh_store).catch_up()

"""The event log of one box: every change stamped with a sequence number and fanned out.

Parts of the box (the live state, tags, imports, rooms) publish their changes here; the log turns
each into an envelope {seq, event_id, type, server_time, data}, keeps the last ones for replay and
sends them to WebSocket subscribers. A new subscriber that missed too much gets a snapshot,
assembled from what each part provides. Transitions (never positions: the recorder stores every
bus event) go on the event bus through `fire`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol
import uuid

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
import homeassistant.util.dt as dt_util

from ..const import DOMAIN
from ..listeners import Listeners
from .ops import OperationCache

if TYPE_CHECKING:
    from ..storage import BoxStore

REPLAY_BUFFER_SIZE = 1000
SEQ_BLOCK = 1000  # seqs reserved in storage ahead of use, so a restart never reuses one

Sender = Callable[[dict[str, Any]], None]
SnapshotPart = Callable[[], Any]


class Publisher(Protocol):
    """What a part of the box sees of the event log: it publishes and fires, nothing more."""

    def publish(
        self, event_type: str, data: dict[str, Any], playlist_seq: int | None = None
    ) -> int:
        """Stamp and fan out one event; return its seq."""

    def fire(self, event_type: str, data: dict[str, Any]) -> None:
        """Put a transition on the bus, with the box's ids."""

    @property
    def device_id(self) -> str | None:
        """Return the id of the box's device."""

    @property
    def subscriber_count(self) -> int:
        """Return how many subscriptions are open (live-only events need someone to hear)."""


class Subscriber(NamedTuple):
    """How to reach one subscription: each event, and the end when the box goes away."""

    send: Sender
    close: CALLBACK_TYPE


class EventLog:
    """Sequenced events of one box, with replay, subscribers and the bus transitions."""

    def __init__(self, hass: HomeAssistant, entry: ConfigEntry, store: BoxStore) -> None:
        """Initialize the event log."""
        self._hass = hass
        self._entry = entry
        self._store = store
        self.seq = 0
        self._reserved = 0
        self.buffer: deque[dict[str, Any]] = deque(maxlen=REPLAY_BUFFER_SIZE)
        self._subscribers: dict[int, Subscriber] = {}
        self._next_subscriber = 0
        self._subscribers_changed: Listeners[[]] = Listeners()
        self._parts: dict[str, SnapshotPart] = {}
        self.ops = OperationCache()

    # Life cycle -----------------------------------------------------------------

    async def async_start(self) -> None:
        """Continue the sequence after the stored reservation."""
        # The stored section keeps its first name ("hub"): existing boxes continue their seq.
        stored = self._store.data.get("hub", {})
        self.seq = self._reserved = int(stored.get("seq_reserved", 0))
        self._reserve()
        await self._store.async_save_now()

    @callback
    def async_stop(self) -> None:
        """End the subscriptions (the box is unloaded): clients then subscribe again."""
        subscribers = list(self._subscribers.values())
        self._subscribers.clear()
        self._subscribers_changed.notify()
        for subscriber in subscribers:
            subscriber.close()

    def _reserve(self) -> None:
        self._reserved = self.seq + SEQ_BLOCK
        self._store.data["hub"] = {"seq_reserved": self._reserved}

    # Publishing -----------------------------------------------------------------

    @callback
    def publish(
        self, event_type: str, data: dict[str, Any], playlist_seq: int | None = None
    ) -> int:
        """Stamp, buffer and fan out one event; return its seq."""
        self.seq += 1
        if self.seq >= self._reserved - SEQ_BLOCK // 2:
            self._reserve()
            # Written now, not with the store's delay: a burst of events (or edits that keep
            # postponing a delayed save) must not use up the old reservation before it is on disk.
            self._entry.async_create_task(
                self._hass, self._store.async_save_now(), f"{DOMAIN} seq reservation"
            )
        envelope: dict[str, Any] = {
            "seq": self.seq,
            "event_id": uuid.uuid4().hex,
            "type": event_type,
            "server_time": dt_util.utcnow().isoformat(),
            "data": data,
        }
        if playlist_seq is not None:
            envelope["playlist_seq"] = playlist_seq
        self.buffer.append(envelope)
        for subscriber in list(self._subscribers.values()):
            subscriber.send(envelope)
        return self.seq

    @callback
    def subscribe(
        self, send: Sender, since_seq: int | None, close: CALLBACK_TYPE = lambda: None
    ) -> CALLBACK_TYPE:
        """Send the missed events (or a snapshot), then every new one; return the unsubscribe.

        `close` is called if the box goes away (unload) while subscribed.
        """
        oldest = self.buffer[0]["seq"] if self.buffer else self.seq + 1
        if since_seq is not None and oldest - 1 <= since_seq <= self.seq:
            for envelope in self.buffer:
                if envelope["seq"] > since_seq:
                    send(envelope)
        else:
            send(self._snapshot_envelope())
        key = self._next_subscriber
        self._next_subscriber += 1
        self._subscribers[key] = Subscriber(send, close)
        self._subscribers_changed.notify()

        @callback
        def unsubscribe() -> None:
            self._subscribers.pop(key, None)
            self._subscribers_changed.notify()

        return unsubscribe

    @callback
    def async_add_subscribers_listener(self, listener: Callable[[], None]) -> CALLBACK_TYPE:
        """Call `listener` whenever a subscription opens or ends (the position stream follows)."""
        return self._subscribers_changed.add(listener)

    @property
    def subscriber_count(self) -> int:
        """Return how many subscriptions are open."""
        return len(self._subscribers)

    # Snapshot -----------------------------------------------------------------

    @callback
    def add_snapshot_part(self, key: str, part: SnapshotPart) -> None:
        """Have `part()` fill `key` of every snapshot (each part of the box provides its own)."""
        self._parts[key] = part

    def snapshot(self) -> dict[str, Any]:
        """Return the full state: what every part provides."""
        return {key: part() for key, part in self._parts.items()}

    def _snapshot_envelope(self) -> dict[str, Any]:
        """Return a snapshot: the state at `seq`, sent to one subscriber, never buffered."""
        return {
            "seq": self.seq,
            "event_id": uuid.uuid4().hex,
            "type": "snapshot",
            "server_time": dt_util.utcnow().isoformat(),
            "data": self.snapshot(),
        }

    # Bus -----------------------------------------------------------------

    @property
    def device_id(self) -> str | None:
        """Return the id of the box's device (None until its entity registered it)."""
        device = dr.async_get(self._hass).async_get_device(
            identifiers={(DOMAIN, self._entry.entry_id)}
        )
        return device.id if device else None

    @callback
    def fire(self, event_type: str, data: dict[str, Any]) -> None:
        """Put a transition (player, tags, imports, rooms) on the bus, with the box's ids."""
        self._hass.bus.async_fire(
            event_type, {"entry_id": self._entry.entry_id, "device_id": self.device_id, **data}
        )

    def diagnostics(self) -> dict[str, Any]:
        """Return the log's figures."""
        return {
            "seq": self.seq,
            "seq_reserved": self._reserved,
            "buffer": len(self.buffer),
            "buffer_size": REPLAY_BUFFER_SIZE,
            "subscribers": self.subscriber_count,
            "op_dedup": len(self.ops),
        }

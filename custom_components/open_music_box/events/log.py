"""Live state of one box: every change stamped with a sequence number and fanned out.

The player and the catalog stay the one source of truth (the entity reads them too); the hub
watches them, turns each change into an envelope {seq, event_id, type, server_time, data}, keeps
the last ones for replay, sends them to WebSocket subscribers, and puts transitions (never
positions: the recorder stores every bus event) on the event bus.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable
import logging
import time
from typing import TYPE_CHECKING, Any, NamedTuple
import uuid

from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.helpers import device_registry as dr
import homeassistant.util.dt as dt_util

from ..catalog import CatalogChange, ChangeKind, validation_error
from ..const import DOMAIN
from ..playback.player import Player, PlayState
from .positions import (  # noqa: F401 - the constants stay importable from the hub
    POSITION_INTERVAL,
    POSITION_MIN_GAP,
    PositionStream,
)

if TYPE_CHECKING:
    from ..box import MusicBox

_LOGGER = logging.getLogger(__name__)

REPLAY_BUFFER_SIZE = 1000
SEQ_BLOCK = 1000  # seqs reserved in storage ahead of use, so a restart never reuses one
OP_TTL_SECONDS = 300.0
OP_CACHE_SIZE = 2000

EVENT_TRACK_STARTED = f"{DOMAIN}_track_started"
EVENT_PLAYBACK_STATE = f"{DOMAIN}_playback_state"
EVENT_PLAYLIST_FINISHED = f"{DOMAIN}_playlist_finished"

Sender = Callable[[dict[str, Any]], None]


class Subscriber(NamedTuple):
    """How to reach one subscription: each event, and the end when the box goes away."""

    send: Sender
    close: CALLBACK_TYPE


class OperationCache:
    """Results of commands by client_op_id, per user: a repeat within the TTL gets the first result.

    A future is stored at once, so a repeat that arrives while the first is still running waits
    for that result instead of acting twice. Each user has his own bounded cache (the oldest
    entries go first), so one user's flood never evicts another's ids. An op id names one command:
    the same id for another command is refused, never answered with the first command's result.
    """

    def __init__(self, ttl: float = OP_TTL_SECONDS, size: int = OP_CACHE_SIZE) -> None:
        self._ttl = ttl
        self._size = size
        self._users: dict[str, OrderedDict[str, tuple[float, str, asyncio.Future[Any]]]] = {}

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._users.values())

    def _expire(self, now: float) -> None:
        for user, entries in list(self._users.items()):
            while entries:
                key, (expires, _, _) = next(iter(entries.items()))
                if expires > now:
                    break
                del entries[key]
            if not entries:
                del self._users[user]

    async def run(
        self, user: str, op_id: str, command: str, action: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Run `action` once per user and op id within the TTL; repeats get the same outcome."""
        now = time.monotonic()
        self._expire(now)
        entries = self._users.setdefault(user, OrderedDict())
        if (found := entries.get(op_id)) is not None:
            if found[1] != command:
                raise validation_error("op_id_conflict", op_id=op_id, command=found[1])
            return await asyncio.shield(found[2])
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entries[op_id] = (now + self._ttl, command, future)
        while len(entries) > self._size:
            entries.popitem(last=False)
        try:
            result = await action()
        except asyncio.CancelledError:
            # No result to hand out: forget the key, or every repeat would wait on it for the TTL.
            if entries.get(op_id, (0.0, "", None))[2] is future:
                del entries[op_id]
            future.cancel()
            raise
        except Exception as err:
            future.set_exception(err)
            future.exception()  # retrieved here: repeats re-raise it
            raise
        future.set_result(result)
        return result


class Hub:
    """Sequenced events of one box, with replay, subscribers and the bus transitions."""

    def __init__(self, hass: HomeAssistant, box: MusicBox) -> None:
        self._hass = hass
        self._box = box
        self.seq = 0
        self._reserved = 0
        self.buffer: deque[dict[str, Any]] = deque(maxlen=REPLAY_BUFFER_SIZE)
        self._subscribers: dict[int, Subscriber] = {}
        self._next_subscriber = 0
        self.ops = OperationCache()
        self._last_player: dict[str, Any] | None = None
        self._last_queue: list[str] = []
        self._announced_start = 0  # the player's track_starts last announced on the bus
        self._last_state: PlayState | None = None
        self.positions = PositionStream(
            hass.loop,
            self._publish_position,
            lambda: bool(self._subscribers),
            lambda: self._box.player.state is PlayState.PLAYING,
        )
        self._unsubs: list[CALLBACK_TYPE] = []

    # Life cycle -----------------------------------------------------------------

    async def async_start(self) -> None:
        """Continue the sequence after the stored reservation; follow the player and catalog."""
        stored = self._box.store.data.get("hub", {})
        self.seq = self._reserved = int(stored.get("seq_reserved", 0))
        self._reserve()
        await self._box.store.async_save_now()
        player, catalog = self._box.player, self._box.catalog
        self._last_player = self.player_state()
        self._last_queue = queue_ids(player)
        self._announced_start = player.track_starts
        self._last_state = player.state
        self._unsubs += [
            player.async_add_listener(self._on_player),
            player.async_add_finished_listener(self._on_finished),
            catalog.async_add_change_listener(self._on_catalog),
            self._box.sleep_timer.async_add_listener(self._on_player),
        ]

    @callback
    def async_stop(self) -> None:
        """Stop listening and streaming (the box is unloaded); end the subscriptions."""
        for unsub in self._unsubs:
            unsub()
        self._unsubs.clear()
        # End the subscriptions (clients then subscribe again) and stop the position stream.
        subscribers = list(self._subscribers.values())
        self._subscribers.clear()
        self.positions.stop()
        for subscriber in subscribers:
            subscriber.close()

    def _reserve(self) -> None:
        self._reserved = self.seq + SEQ_BLOCK
        self._box.store.data["hub"] = {"seq_reserved": self._reserved}

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
            self._box.entry.async_create_task(
                self._hass, self._box.store.async_save_now(), f"{DOMAIN} seq reservation"
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
        self.positions.sync()

        @callback
        def unsubscribe() -> None:
            self._subscribers.pop(key, None)
            self.positions.sync()

        return unsubscribe

    @property
    def subscriber_count(self) -> int:
        """Return how many subscriptions are open."""
        return len(self._subscribers)

    def _snapshot_envelope(self) -> dict[str, Any]:
        """Return a snapshot: the state at `seq`, sent to one subscriber, never buffered."""
        return {
            "seq": self.seq,
            "event_id": uuid.uuid4().hex,
            "type": "snapshot",
            "server_time": dt_util.utcnow().isoformat(),
            "data": self.snapshot(),
        }

    # State -----------------------------------------------------------------

    def player_state(self) -> dict[str, Any]:
        """Return the player's state as clients see it."""
        ends_at = self._box.sleep_timer.ends_at
        return {
            "available": self._box.available,
            **player_dict(self._box.player),
            "sleep_timer_ends_at": None if ends_at is None else ends_at.isoformat(),
        }

    def snapshot(self) -> dict[str, Any]:
        """Return the full state: the player, playlists index, tag links, imports, rooms."""
        return {
            "player": self.player_state(),
            "queue": queue_ids(self._box.player),
            "playlists": self.playlists_index(),
            "tags": self._box.tags.list_links(),
            "imports": self._box.importer.jobs(),
            "rooms": [room.snapshot() for room in self._box.rooms.values()],
        }

    def playlists_index(self) -> list[dict[str, Any]]:
        """Return every playlist without its tracks."""
        return [self.summary(p) for p in self._box.catalog.playlists()]

    def summary(self, playlist: Any) -> dict[str, Any]:
        """Describe one playlist without its tracks, with its mode (album or audiobook)."""
        return playlist_summary(playlist, self._box.resume.mode(playlist.id))

    def _position_data(self) -> dict[str, Any]:
        player = self._box.player
        track = player.current if player.state is not PlayState.IDLE else None
        duration = track.duration if track is not None else None
        return {
            "position_ms": round(player.current_position() * 1000) if track else 0,
            "duration_ms": None if duration is None else round(duration * 1000),
            "track_id": None if track is None else track.id,
            "playing": player.state is PlayState.PLAYING,
        }

    # Watching the player -----------------------------------------------------------------

    @callback
    def _on_player(self) -> None:
        # The queue (up to thousands of ids) goes out only when it changes, ahead of the state
        # whose queue_position points into it: not with every volume step, kept 1000 times.
        queue = queue_ids(self._box.player)
        if queue != self._last_queue:
            self._last_queue = queue
            self.publish("queue", {"queue": queue})
        state = self.player_state()
        if state == self._last_player:
            return
        previous = self._last_player or {}
        self._last_player = state
        self.publish("player", state)
        moved = (
            state["state"] != previous.get("state")
            or state["position_updated_at"] != previous.get("position_updated_at")
            or state["track"] != previous.get("track")
        )
        self._bus_transitions()
        if moved and self._subscribers:
            self.positions.request()
        self.positions.sync()

    @callback
    def _bus_transitions(self) -> None:
        player = self._box.player
        # Counted per start, so a repeated track (repeat one) is announced again; a track loaded
        # paused is announced when it starts playing.
        if (
            player.state is PlayState.PLAYING
            and player.track_starts != self._announced_start
            and player.current is not None
        ):
            self._announced_start = player.track_starts
            self._fire(
                EVENT_TRACK_STARTED,
                {**track_dict(player.current), "playlist_id": player.playlist_id},
            )
        if player.state is not self._last_state:
            self._last_state = player.state
            self._fire(EVENT_PLAYBACK_STATE, {"state": player.state.value})

    @callback
    def _on_finished(self, playlist_id: str | None) -> None:
        self._fire(EVENT_PLAYLIST_FINISHED, {"playlist_id": playlist_id})

    @callback
    def _fire(self, event_type: str, data: dict[str, Any]) -> None:
        entry_id = self._box.entry.entry_id
        device = dr.async_get(self._hass).async_get_device(identifiers={(DOMAIN, entry_id)})
        self._hass.bus.async_fire(
            event_type,
            {"entry_id": entry_id, "device_id": device.id if device else None, **data},
        )

    @callback
    def fire(self, event_type: str, data: dict[str, Any]) -> None:
        """Put a transition of another module (tags, …) on the bus with entry_id and device_id."""
        self._fire(event_type, data)

    @property
    def device_id(self) -> str | None:
        """Return the id of the box's device (None until its entity registered it)."""
        device = dr.async_get(self._hass).async_get_device(
            identifiers={(DOMAIN, self._box.entry.entry_id)}
        )
        return device.id if device else None

    # Watching the catalog -----------------------------------------------------------------

    @callback
    def _on_catalog(self, change: CatalogChange) -> None:
        if change.kind is ChangeKind.LIBRARY:
            scan = self._box.catalog.scan
            self.publish(
                "library",
                {
                    "available": self._box.catalog.available,
                    "tracks": len(scan.tracks),
                    "playlists": len(self._box.catalog.playlists()),
                    "skipped": len(scan.skipped),
                },
            )
            self.publish("playlists", {"playlists": self.playlists_index()})
            self._on_player()  # availability may have changed
        elif change.kind is ChangeKind.PLAYLISTS:
            self.publish("playlists", {"playlists": self.playlists_index()})
        else:
            for playlist_id in change.playlist_ids:
                self._publish_playlist(playlist_id)

    @callback
    def _publish_playlist(self, playlist_id: str) -> None:
        catalog = self._box.catalog
        playlist = catalog.playlist(playlist_id)
        if playlist is None:
            return
        self.publish(
            "playlist",
            {**self.summary(playlist), "track_ids": list(playlist.track_ids)},
            playlist_seq=catalog.playlist_seq(playlist_id),
        )

    # Position stream -----------------------------------------------------------------

    @callback
    def _publish_position(self) -> None:
        self.publish("position", self._position_data())

    def diagnostics(self) -> dict[str, Any]:
        """Return the hub's figures."""
        return {
            "seq": self.seq,
            "seq_reserved": self._reserved,
            "buffer": len(self.buffer),
            "buffer_size": REPLAY_BUFFER_SIZE,
            "subscribers": self.subscriber_count,
            "op_dedup": len(self.ops),
        }


def player_dict(player: Player) -> dict[str, Any]:
    """Return a player's (the box's or a room's) state as clients see it, without the queue."""
    track = player.current
    return {
        "state": player.state.value,
        "track": None if track is None else track_dict(track),
        "queue_position": player.pos if player.order else None,
        "playlist_id": player.playlist_id,
        "volume": round(player.volume, 4),
        "max_volume": player.settings.max_volume,
        "muted": player.muted,
        "shuffle": player.shuffle,
        "repeat": player.repeat.value,
        "position_ms": round(player.position * 1000),
        "position_updated_at": player.position_updated_at.isoformat(),
    }


def queue_ids(player: Player) -> list[str]:
    """Return a player's queue as clients see it: track ids in play order."""
    return [player.queue[i].id for i in player.order]


def track_dict(track: Any) -> dict[str, Any]:
    """Describe a track for clients and bus events."""
    return {
        "track_id": track.id,
        "title": track.title,
        "artist": track.artist,
        "album": track.album,
        "duration_ms": None if track.duration is None else round(track.duration * 1000),
    }


def playlist_summary(playlist: Any, mode: str = "album") -> dict[str, Any]:
    """Describe a playlist without its tracks (`Hub.summary` fills in its mode)."""
    return {
        "id": playlist.id,
        "name": playlist.name,
        "kind": playlist.kind.value,
        "read_only": playlist.read_only,
        "track_count": len(playlist.track_ids),
        "mode": str(mode),
    }

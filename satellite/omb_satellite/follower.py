"""Following the room: its events become loads, seeks, timed starts, speed and volume in mpv."""

from __future__ import annotations

import logging
import time
from typing import Any

from .errors import EXIT_OK, EXIT_ROOM, CommandError, ConnectionLost, FatalError
from .player import MpvPlayer
from .shared.clockfilter import ClockFilter
from .transport import Events, Transport

_LOGGER = logging.getLogger(__name__)

START_LATE_WARN_MS = 10.0  # a busy machine can wake the start thread late
LATE_SPARE = 0.15  # a late start aims this far past the notice its lead-in needs
JOIN_LEAD = 1.2  # a join into a playing room starts this far ahead (load, then the lead-in)
CONTINUE_TOLERANCE = 0.2  # after a reconnect, keep playing when this close to the room


class Follower(Transport):
    """Plays what the room's join subscription says."""

    def __init__(
        self, url: str, token: str, room_id: str, *, ao: str | None, audio_device: str
    ) -> None:
        super().__init__(url, token)
        self.room_id = room_id
        self.clock = ClockFilter()
        self.player = MpvPlayer(ao=ao, audio_device=audio_device)
        self.member_id: str | None = None
        self.generation: int | None = None
        self.track_id: str | None = None  # the track loaded in mpv

    def server_now(self) -> float:
        """Return the server time now."""
        return self.clock.to_server(time.monotonic())

    async def _event_loop(self, events: Events) -> None:
        """Handle room events in order until the subscription or the connection ends."""
        while True:
            event = await events.get()
            if event is None:
                raise ConnectionLost("connection closed")
            kind = event.get("type")
            _LOGGER.debug("Event %s", event)
            if kind == "closed":
                await self._on_closed(str(event.get("reason")))
                return
            try:
                await self._handle(kind, event)
            except (ConnectionLost, TimeoutError):
                raise  # the connection is gone or HA is stuck: reconnect
            except (KeyError, TypeError, ValueError) as err:
                _LOGGER.warning("Bad %s event %s: %s", kind, event, err)
            except CommandError as err:
                _LOGGER.warning("Home Assistant refused a message: %s", err)
            except Exception:  # mpv refused a command: the next event may work
                _LOGGER.exception("Could not apply the %s event", kind)

    async def _handle(self, kind: Any, event: dict[str, Any]) -> None:
        if kind in ("prepare", "start", "pause") and self._is_stale(int(event["generation"])):
            _LOGGER.debug("Ignoring stale %s", kind)
            return
        if kind == "state":
            await self._on_state(event)
        elif kind == "prepare":
            self.generation = int(event["generation"])
            if await self._prepare(event.get("track_id"), str(event["url"]), event["position"]):
                await self._send_ready(self.generation)
        elif kind == "start":
            self.generation = int(event["generation"])
            await self._start(float(event["position"]), float(event["server_time"]))
        elif kind == "pause":
            self.generation = int(event["generation"])
            await self.player.pause_at_position(float(event["position"]))
        elif kind == "speed":
            await self.player.set_speed(float(event["speed"]))
        elif kind == "volume":
            await self.player.set_volume(float(event["volume"]), bool(event.get("muted")))
        elif kind == "stop":
            self.track_id = None
            await self.player.stop()
        else:
            _LOGGER.debug("Unknown event %r", kind)

    def _is_stale(self, generation: int) -> bool:
        return self.generation is not None and generation < self.generation

    async def _on_state(self, event: dict[str, Any]) -> None:
        """Right after a join: take the room's volume and timeline."""
        if event.get("member_id"):
            self.member_id = str(event["member_id"])
        if "volume" in event:
            await self.player.set_volume(float(event["volume"]), bool(event.get("muted")))
        timeline = event["timeline"]
        self.generation = int(timeline["generation"])
        state, url = timeline["state"], timeline.get("url")
        if state == "idle" or not url:
            self.track_id = None
            await self.player.stop()
            return
        position, server_time = float(timeline["position"]), float(timeline["server_time"])
        rate = float(timeline.get("rate", 1.0))
        if state == "playing":
            target = self.server_now() + JOIN_LEAD  # late join: start ourselves
            position += (target - server_time) * rate
            if self._can_continue(timeline.get("track_id"), position, target):
                _LOGGER.info("Still in step with the room: playing on")
                return
            if await self._prepare(timeline.get("track_id"), str(url), position):
                await self._start(position, target)
        elif await self._prepare(timeline.get("track_id"), str(url), position):
            await self._send_ready(self.generation)

    def _can_continue(self, track_id: Any, position: float, server_time: float) -> bool:
        """After a reconnect: True when we still play the room's track close to its position."""
        if not self.player.playing or track_id is None or str(track_id) != self.track_id:
            return False
        ours = self.player.position_at(self.clock.to_local(server_time))
        return ours is not None and abs(ours - position) < CONTINUE_TOLERANCE

    async def _prepare(self, track_id: Any, url: str, position: Any) -> bool:
        """Be paused at position in the track at speed 1: a seek in the loaded track, else a load.

        A barrier realigns everyone, so any speed trim starts over from 1.0.
        """
        track = None if track_id is None else str(track_id)
        position = max(0.0, float(position))
        if self.player.speed != 1.0:
            await self.player.set_speed(1.0)
        same = track is not None and track == self.track_id and self.player.loaded
        if same and await self.player.pause_at_position(position):
            return True
        full_url = self.base_url + url if url.startswith("/") else url
        if await self.player.load(full_url, position):
            self.track_id = track
            return True
        self.track_id = None
        _LOGGER.warning("Could not load the room's track (timeout or error)")
        return False

    async def _start(self, position: float, server_time: float) -> None:
        """Be playing at position at server_time; when that moment has passed, catch up."""
        if not self.player.loaded:
            _LOGGER.warning("Start without a loaded track: waiting for the next prepare")
            return
        if self.player.playing:  # a realignment: stop where we are, go to the room's place
            await self.player.pause_at_position(position)
        for _ in range(3):  # a slow seek can make the new instant late again
            now = self.server_now()
            if server_time - now > self.player.notice():
                break
            target = now + self.player.notice() + LATE_SPARE
            position += target - server_time
            server_time = target
            _LOGGER.info("Late start: seeking to %.3f s", position)
            await self.player.pause_at_position(position)
        local_t = self.clock.to_local(server_time)
        late_ms = (await self.player.start_at(local_t) - local_t) * 1000
        # Reports measure the audio itself, so the room corrects a late start; say so anyway.
        log = _LOGGER.warning if late_ms > START_LATE_WARN_MS else _LOGGER.debug
        log("Started at %.3f s, %.3f ms after the target", position, late_ms)

    async def _send_ready(self, generation: int) -> None:
        await self._request(
            "open_music_box/room/ready",
            {"room_id": self.room_id, "member_id": self.member_id, "generation": generation},
        )

    async def _on_closed(self, reason: str) -> None:
        """Stop for good when removed or replaced; otherwise (dropped, unloaded) rejoin."""
        if reason not in ("left", "removed", "room_removed", "replaced"):
            raise ConnectionLost(f"room subscription closed ({reason})")
        self.track_id = None
        await self.player.stop()
        if reason == "room_removed":
            raise FatalError(f"Room {self.room_id!r} was removed from Home Assistant", EXIT_ROOM)
        if reason == "replaced":  # rejoining would take it back, and so on forever
            raise FatalError("Another connection took over this member: exiting", EXIT_OK)
        raise FatalError("No longer a member of the room: exiting", EXIT_OK)

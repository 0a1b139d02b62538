"""WebSocket clients for bench_hub.py, run in their own process (never in HA's event loop).

Talks to the benchmark over stdio, one JSON object per stdout line; reads commands on stdin.
The access token comes from the environment (OMB_BENCH_TOKEN).

  subscribers URL ENTRY_ID COUNT
      open COUNT connections, authenticate, subscribe; print {"ready": ...}; record every
      frame (receipt wall-clock time + raw text, parsed only afterwards so that the receive
      loop stays cheap) until the line "stop"; "start" opens the measured window. Then print
      {"subscribers": [...]}: per connection its seq checks and the events of the window.
      The garbage collector is off meanwhile: a client pause would be counted as lag.
  replay URL ENTRY_ID
      repeat until the line "quit": subscribe, note the seq, disconnect, print {"left": seq};
      wait for "go TARGET"; reconnect and authenticate (not timed), then time from sending
      subscribe {since_seq} until every event up to TARGET has arrived; print the figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import json
import os
import sys
import time
from typing import Any

import aiohttp

CLOSED = (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)


def emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def events_of(raw: str) -> list[dict[str, Any]]:
    """Return the event envelopes in one frame (HA may coalesce messages into a list)."""
    decoded = json.loads(raw)
    messages = decoded if isinstance(decoded, list) else [decoded]
    return [m["event"] for m in messages if m.get("type") == "event"]


def epoch(server_time: str) -> float:
    return dt.datetime.fromisoformat(server_time).timestamp()


async def stdin_lines() -> asyncio.StreamReader:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    return reader


async def connect(session: aiohttp.ClientSession, url: str) -> aiohttp.ClientWebSocketResponse:
    """Open and authenticate one WebSocket connection."""
    # permessage-deflate as browsers negotiate it, unless OMB_BENCH_COMPRESS=0
    compress = int(os.environ.get("OMB_BENCH_COMPRESS", "15"))
    ws = await session.ws_connect(url, max_msg_size=0, compress=compress)
    assert (await ws.receive_json())["type"] == "auth_required"
    await ws.send_json({"type": "auth", "access_token": os.environ["OMB_BENCH_TOKEN"]})
    reply = await ws.receive_json()
    if reply["type"] != "auth_ok":
        raise RuntimeError(f"authentication failed: {reply}")
    return ws


async def subscribe(ws: aiohttp.ClientWebSocketResponse, entry_id: str) -> int:
    """Send the subscribe command (id 1); return the seq in its result (sent before any event)."""
    await ws.send_json({"id": 1, "type": "open_music_box/subscribe", "entry_id": entry_id})
    message = await ws.receive_json()  # no coalescing was asked for: one message per frame
    if message.get("type") != "result" or not message["success"]:
        raise RuntimeError(f"subscribe failed: {message}")
    return int(message["result"]["seq"])


class Subscriber:
    """One connection and the raw frames it received (its first event is the snapshot)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: list[tuple[float, str]] = []
        self.recording = True
        self.closed_early = False
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        ws, frames, now = self.ws, self.frames, time.time
        while True:
            msg = await ws.receive()
            received = now()
            if msg.type is aiohttp.WSMsgType.TEXT:
                if self.recording:
                    frames.append((received, msg.data))
            elif msg.type in CLOSED:
                self.closed_early = self.recording
                return


def check(sub: Subscriber, window: tuple[float, float]) -> dict[str, Any]:
    """One subscriber's seq checks over everything it received, and its events in `window`.

    Events are [seq, type, received, server_time], times in epoch seconds.
    """
    events: list[list[Any]] = []
    gaps = missing = duplicates = no_snapshot = 0
    last: int | None = None
    for received, raw in sub.frames:
        for event in events_of(raw):
            seq = event["seq"]
            if event["type"] == "snapshot":
                gaps += last is not None  # a snapshot after the first event: history was lost
                last = seq
                continue
            if last is None:
                no_snapshot += 1
            elif seq != last + 1:
                gaps += 1
                if seq <= last:
                    duplicates += 1
                else:
                    missing += seq - last - 1
            last = seq
            if window[0] <= received <= window[1]:
                events.append([seq, event["type"], received, epoch(event["server_time"])])
    return {
        "gaps": gaps,
        "missing": missing,
        "duplicates": duplicates,
        "no_snapshot": no_snapshot,
        "closed_early": sub.closed_early,
        "events": events,
    }


async def run_subscribers(url: str, entry_id: str, count: int) -> None:
    commands = await stdin_lines()
    connector = aiohttp.TCPConnector(limit=0)  # the default pool (100) would stall connection 101
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.monotonic()
        gate = asyncio.Semaphore(50)

        async def open_one() -> Subscriber:
            async with gate:
                ws = await connect(session, url)
                await subscribe(ws, entry_id)
                return Subscriber(ws)  # reads at once: the snapshot follows the result

        subscribers = list(await asyncio.gather(*(open_one() for _ in range(count))))
        gc.freeze()
        gc.disable()
        emit({"ready": True, "connect_s": round(time.monotonic() - started, 3)})
        # "start" and "stop" bound the measured window (lags and counts).
        window, cpu = [0.0, float("inf")], time.process_time()
        while (line := (await commands.readline()).strip()) not in (b"stop", b""):
            if line == b"start":
                window[0], cpu = time.time(), time.process_time()
        window[1], cpu = time.time(), time.process_time() - cpu
        for sub in subscribers:
            sub.recording = False
        await asyncio.gather(*(sub.ws.close() for sub in subscribers))
        for sub in subscribers:
            sub.reader.cancel()
        await asyncio.gather(*(sub.reader for sub in subscribers), return_exceptions=True)
    emit(
        {
            "subscribers": [check(sub, (window[0], window[1])) for sub in subscribers],
            "cpu_per_s": cpu / (window[1] - window[0]),
        }
    )


async def run_replay(url: str, entry_id: str) -> None:
    commands = await stdin_lines()
    async with aiohttp.ClientSession() as session:
        while True:
            ws = await connect(session, url)
            left = await subscribe(ws, entry_id)
            await ws.close()
            emit({"left": left})
            words = (await commands.readline()).split()
            if not words or words[0] != b"go":
                return
            target = int(words[1])
            ws = await connect(session, url)
            started = time.perf_counter()
            await ws.send_json(
                {
                    "id": 1,
                    "type": "open_music_box/subscribe",
                    "entry_id": entry_id,
                    "since_seq": left,
                }
            )
            last, events, gaps, snapshot, first_ms = left, 0, 0, False, None
            while last < target:
                msg = await ws.receive()
                if msg.type in CLOSED:
                    break
                for event in events_of(msg.data):
                    if first_ms is None:
                        first_ms = (time.perf_counter() - started) * 1000
                    if event["type"] == "snapshot":
                        snapshot = True
                        last = max(last, event["seq"])
                        continue
                    gaps += event["seq"] != last + 1
                    last = event["seq"]
                    events += 1
            elapsed = (time.perf_counter() - started) * 1000
            with contextlib.suppress(Exception):
                await ws.close()
            emit(
                {
                    "replay_ms": round(elapsed, 2),
                    "first_event_ms": None if first_ms is None else round(first_ms, 2),
                    "events": events,
                    "gaps": gaps,
                    "snapshot": snapshot,
                }
            )


def main() -> None:
    mode, url, entry_id, *rest = sys.argv[1:]
    if mode == "subscribers":
        asyncio.run(run_subscribers(url, entry_id, int(rest[0])))
    else:
        asyncio.run(run_replay(url, entry_id))


if __name__ == "__main__":
    main()

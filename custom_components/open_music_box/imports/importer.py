"""Imports from a URL into a playlist: the jobs of one box, at most two at a time.

A job is validated in the event loop (URL, target, free disk space), downloads in a worker thread
(fetch.py), then its files are checked, tagged and moved into the library
(files.py) and the library is rescanned. Every step is an event of the box's event log;
the outcome also goes on the bus. Progress is throttled here, in the loop: the worker only hands
over its latest figures.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from functools import partial
import logging
import os
from pathlib import PurePosixPath
import shutil
from typing import TYPE_CHECKING, Any
import uuid

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.debounce import Debouncer
import homeassistant.util.dt as dt_util

from ..catalog import MAX_NAME_LENGTH, validation_error
from ..const import CONF_IMPORT_MAX_MB, DEFAULT_IMPORT_MAX_MB, DOMAIN
from ..library import folder_playlist_id, track_id, track_key
from ..models import Playlist, PlaylistKind
from .fetch import MB, FetchControl, Progress, fetch
from .files import (
    IMPORTS_DIR,
    ImportFailure,
    Placed,
    Placement,
    clear_leftovers,
    make_work_dir,
    place,
    remove_work_dir,
    safe_name,
)
from .job import (
    PROGRESS_INTERVAL,
    ImportJob,
    JobState,
    TargetKind,
    message,
    valid_url,
)

if TYPE_CHECKING:
    from ..catalog import Catalog
    from ..events import Publisher

_LOGGER = logging.getLogger(__name__)

MAX_RUNNING = 2  # jobs downloading at once per box; more wait in the queue
FINISHED_KEPT = 20  # finished jobs still listed
DISK_MARGIN = 100 * MB  # free space needed beyond the maximum size of an import
CANCEL_WAIT = 10.0  # seconds a cancel waits for the job to stop (its files to be gone)
CLOSE_WAIT = 10.0  # seconds an unload waits for running jobs to stop

EVENT_IMPORT_FINISHED = f"{DOMAIN}_import_finished"


class Importer:
    """The import jobs of one box. Lives in the event loop."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: ConfigEntry,
        catalog: Catalog,
        events: Publisher,
        rescan: Callable[[], Awaitable[None]],
    ) -> None:
        """Initialize the importer."""
        self._hass = hass
        self._entry = entry
        self._catalog = catalog
        self._events = events
        self._rescan = rescan  # the box's: merged with other rescans, the watch follows
        self._jobs: dict[str, ImportJob] = {}  # by creation order; finished ones are trimmed
        self._queue: deque[ImportJob] = deque()
        self._closing = False

    @property
    def _root(self) -> str:
        return str(self._catalog.root)

    @property
    def max_bytes(self) -> int:
        """Return the most one import may download (option, MB)."""
        return int(self._entry.options.get(CONF_IMPORT_MAX_MB, DEFAULT_IMPORT_MAX_MB)) * MB

    # Life cycle -----------------------------------------------------------------

    async def async_start(self) -> None:
        """Remove what imports cut short by a restart left in the temporary folder."""
        if await self._hass.async_add_executor_job(clear_leftovers, self._root):
            _LOGGER.info("Removed the partial files of imports cut short by a restart")

    async def async_close(self) -> None:
        """Cancel every job (unload, stop); wait a little for the running ones to clean up."""
        self._closing = True
        while self._queue:
            job = self._queue.popleft()
            job.control.cancelled.set()
            self._fail(job, "import_cancelled", {})
        tasks = set()
        for job in self._jobs.values():
            if job.task is not None and not job.task.done():
                job.control.cancelled.set()
                tasks.add(job.task)
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT)

    # Requests -----------------------------------------------------------------

    async def async_import(
        self, url: str, playlist_name: str | None = None, playlist_id: str | None = None
    ) -> ImportJob:
        """Check the request and start it (or queue it); return the job at once."""
        clean_url = valid_url(url)
        if (playlist_name is None) == (playlist_id is None):
            raise validation_error("import_target_required")
        if playlist_name is not None:
            playlist_name = playlist_name.strip()
            if not playlist_name or len(playlist_name) > MAX_NAME_LENGTH:
                raise validation_error("invalid_playlist_name", max=str(MAX_NAME_LENGTH))
            kind = TargetKind.NEW
        else:
            kind = self._target_kind(self._catalog.require_playlist(str(playlist_id)))
        await self._check_space()
        job = ImportJob(
            job_id=uuid.uuid4().hex,
            url=clean_url,
            kind=kind,
            target_playlist_id=playlist_id,
            playlist_name=playlist_name,
            created_at=dt_util.utcnow(),
            control=FetchControl(lambda progress: None),
        )
        job.control.report = partial(self._progress_from_thread, job)
        # HA's throttle: the first figures go out at once, then the latest once per interval.
        job.progress = Debouncer(
            self._hass,
            _LOGGER,
            cooldown=PROGRESS_INTERVAL,
            immediate=True,
            function=partial(self._publish_progress, job),
        )
        self._jobs[job.job_id] = job
        self._trim()
        if self._running() < MAX_RUNNING:
            self._start(job)
        else:
            self._queue.append(job)
            self._events.publish(
                "import_queued", {**job.as_dict(), "queue_position": len(self._queue)}
            )
        return job

    async def async_cancel(self, job_id: str) -> ImportJob:
        """Cancel a job: drop a queued one, stop a running one and wait until its files are gone."""
        job = self._jobs.get(job_id)
        if job is None:
            raise validation_error("import_unknown_job", job_id=job_id)
        if job.finished:
            raise validation_error("import_not_active", job_id=job_id)
        job.control.cancelled.set()
        if job.state is JobState.QUEUED:
            self._queue.remove(job)
            self._fail(job, "import_cancelled", {})
        else:
            assert job.task is not None  # set when the job started
            await asyncio.wait({job.task}, timeout=CANCEL_WAIT)
        return job

    def jobs(self) -> list[dict[str, Any]]:
        """Return the running, queued and recently finished jobs, oldest first."""
        return [job.as_dict() for job in self._jobs.values()]

    def diagnostics(self) -> dict[str, Any]:
        """Return counts (no URLs: they may hold tokens)."""
        states = [job.state for job in self._jobs.values()]
        return {
            "running": states.count(JobState.RUNNING),
            "queued": states.count(JobState.QUEUED),
            "finished": sum(job.finished for job in self._jobs.values()),
            "max_running": MAX_RUNNING,
            "max_mb": self.max_bytes // MB,
        }

    # Checks -----------------------------------------------------------------

    @staticmethod
    def _target_kind(playlist: Playlist) -> TargetKind:
        if playlist.kind is PlaylistKind.M3U:
            raise validation_error("import_m3u_target", name=playlist.name)
        return TargetKind.FOLDER if playlist.kind is PlaylistKind.FOLDER else TargetKind.USER

    async def _check_space(self) -> None:
        """Refuse when the library folder is gone or has less free space than an import needs."""
        if not self._catalog.available:
            raise validation_error("import_library_unavailable", name=self._entry.title)
        needed = self.max_bytes + DISK_MARGIN
        try:
            usage = await self._hass.async_add_executor_job(shutil.disk_usage, self._root)
        except OSError as err:  # the folder vanished since the last check
            raise validation_error("import_library_unavailable", name=self._entry.title) from err
        free = usage.free
        if free < needed:
            raise validation_error(
                "import_disk_full", free_mb=str(free // MB), needed_mb=str(needed // MB)
            )

    async def _placement(self, job: ImportJob) -> Placement:
        """Decide where the files go (again at start: a queued job's target may have changed)."""
        if job.kind is TargetKind.NEW:
            name = str(job.playlist_name)
            return Placement(folder=safe_name(name, "Import"), new=True, album=name)
        playlist = self._catalog.require_playlist(str(job.target_playlist_id))
        if self._target_kind(playlist) is TargetKind.USER:
            return Placement(folder=IMPORTS_DIR, new=False, album=playlist.name)
        real_root = await self._hass.async_add_executor_job(os.path.realpath, self._root)
        return Placement(
            folder=self._folder_of(playlist, real_root),
            new=False,
            first_number=len(playlist.track_ids) + 1,
            album=playlist.name,
        )

    def _folder_of(self, playlist: Playlist, real_root: str) -> str:
        """Return the folder of a folder playlist, relative to the library root."""
        for track in self._catalog.tracks_of(playlist):
            key = track_key(track.path, real_root)
            folder = PurePosixPath(key).parent.as_posix()
            folder = "" if folder == "." else folder
            if not os.path.isabs(key) and folder_playlist_id(folder) == playlist.id:
                return folder
        # Every file of the folder is a link to a file elsewhere: its folder is unknown here.
        raise ImportFailure("import_folder_not_found", name=playlist.name)

    # Running -----------------------------------------------------------------

    def _running(self) -> int:
        return sum(job.state is JobState.RUNNING for job in self._jobs.values())

    @callback
    def _pump(self) -> None:
        """Start queued jobs while fewer than MAX_RUNNING run."""
        while not self._closing and self._queue and self._running() < MAX_RUNNING:
            self._start(self._queue.popleft())

    @callback
    def _start(self, job: ImportJob) -> None:
        job.state = JobState.RUNNING
        job.started_at = dt_util.utcnow()
        self._events.publish("import_started", job.as_dict())
        job.task = self._entry.async_create_background_task(
            self._hass, self._run(job), f"{DOMAIN} import {job.job_id}"
        )

    async def _run(self, job: ImportJob) -> None:
        """Run one job to its end; its temporary folder is gone before the outcome is sent."""
        finish: Callable[[], None]
        try:
            finish = await self._attempt(job)
        except ImportFailure as err:
            finish = partial(self._fail, job, err.key, err.placeholders)
        except HomeAssistantError as err:  # the target playlist went away, no space left…
            key = err.translation_key or "import_failed"
            finish = partial(self._fail, job, key, dict(err.translation_placeholders or {}))
        except Exception as err:
            _LOGGER.exception("Import %s failed", job.job_id)
            finish = partial(self._fail, job, "import_failed", {"detail": str(err)[:200]})
        await self._hass.async_add_executor_job(remove_work_dir, self._root, job.job_id)
        finish()
        self._pump()

    async def _attempt(self, job: ImportJob) -> Callable[[], None]:
        placement = await self._placement(job)
        await self._check_space()
        work = await self._hass.async_add_executor_job(make_work_dir, self._root, job.job_id)
        # Not async_add_executor_job: that one is tracked, and waiting for HA to be idle must
        # not wait for a download.
        result = await self._hass.loop.run_in_executor(
            None, fetch, job.url, work, self.max_bytes, job.control
        )
        placed = await self._hass.async_add_executor_job(place, self._root, result.items, placement)
        await self._rescan()
        return partial(self._complete, job, placed, result.converted)

    # Outcomes -----------------------------------------------------------------

    @callback
    def _complete(self, job: ImportJob, placed: Placed, converted: bool) -> None:
        catalog = self._catalog
        job.tracks = [tid for rel in placed.files if catalog.track(tid := track_id(rel))]
        target = catalog.playlist(str(job.target_playlist_id))
        if job.kind is TargetKind.USER and target is not None and not target.read_only:
            catalog.add_tracks(target.id, job.tracks)
            job.playlist_id = target.id
        else:  # a folder playlist (or Imports, if the user's playlist was deleted meanwhile)
            job.playlist_id = folder_playlist_id(placed.folder)
        job.converted = converted
        if not converted:
            job.note_key = "import_not_converted"
            job.note = message(job.note_key)
        self._finish(job, JobState.COMPLETED, "import_complete")

    @callback
    def _fail(self, job: ImportJob, key: str, placeholders: dict[str, str]) -> None:
        if job.control.cancelled.is_set():
            state, key, placeholders = JobState.CANCELLED, "import_cancelled", {}
        else:
            state = JobState.FAILED
        job.error, job.placeholders = key, placeholders
        job.message = message(key, placeholders)
        self._finish(job, state, "import_error")

    @callback
    def _finish(self, job: ImportJob, state: JobState, event_type: str) -> None:
        if job.progress is not None:
            job.progress.async_shutdown()
        job.latest, job.speed = None, None
        job.state = state
        job.finished_at = dt_util.utcnow()
        self._events.publish(event_type, job.as_dict())
        self._events.fire(
            EVENT_IMPORT_FINISHED,
            {
                "job_id": job.job_id,
                "state": state.value,
                "playlist_id": job.playlist_id,
                "tracks": list(job.tracks),
                "error": job.error,
            },
        )
        self._trim()

    def _trim(self) -> None:
        """Forget the oldest finished jobs beyond FINISHED_KEPT."""
        finished = [job_id for job_id, job in self._jobs.items() if job.finished]
        for job_id in finished[: max(0, len(finished) - FINISHED_KEPT)]:
            del self._jobs[job_id]

    # Progress -----------------------------------------------------------------

    def _progress_from_thread(self, job: ImportJob, progress: Progress) -> None:
        """Keep the worker's latest figures; wake the loop once per batch (worker thread)."""
        job.latest = progress
        if job.wakeup_pending:
            return
        job.wakeup_pending = True
        with suppress(RuntimeError):  # the loop is closed: Home Assistant is stopping
            self._hass.loop.call_soon_threadsafe(self._progress_wakeup, job)

    @callback
    def _progress_wakeup(self, job: ImportJob) -> None:
        job.wakeup_pending = False
        if job.progress is not None and job.state is JobState.RUNNING:
            job.progress.async_schedule_call()

    @callback
    def _publish_progress(self, job: ImportJob) -> None:
        progress, job.latest = job.latest, None
        if progress is None or job.state is not JobState.RUNNING:
            return  # sent already (the cooldown's end has nothing new), or the job is over
        job.bytes, job.total = progress.bytes, progress.total
        job.percent, job.speed = progress.percent, progress.speed
        self._events.publish(
            "import_progress",
            {
                "job_id": job.job_id,
                "bytes": progress.bytes,
                "total": progress.total,
                "percent": progress.percent,
                "speed": progress.speed,
                "item": progress.item,
                "items": progress.items,
            },
        )

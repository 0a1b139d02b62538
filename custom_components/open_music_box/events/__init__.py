"""The event log: every change of a box stamped with a sequence number, replayed and fanned out.

log.py is the log itself (seq, replay buffer, subscribers, snapshot, bus); live.py publishes the
player's and catalog's changes to it; positions.py times the position stream; state.py says how
players, tracks and playlists look to clients; ops.py runs a repeated command (client_op_id) once.
"""

from .live import (
    EVENT_PLAYBACK_STATE,
    EVENT_PLAYLIST_FINISHED,
    EVENT_TRACK_STARTED,
    LiveState,
)
from .log import REPLAY_BUFFER_SIZE, SEQ_BLOCK, EventLog, Publisher
from .ops import OP_CACHE_SIZE, OP_TTL_SECONDS, OperationCache
from .positions import POSITION_INTERVAL, POSITION_MIN_GAP, PositionStream
from .state import player_dict, playlist_summary, queue_ids, track_dict

__all__ = [
    "EVENT_PLAYBACK_STATE",
    "EVENT_PLAYLIST_FINISHED",
    "EVENT_TRACK_STARTED",
    "OP_CACHE_SIZE",
    "OP_TTL_SECONDS",
    "POSITION_INTERVAL",
    "POSITION_MIN_GAP",
    "REPLAY_BUFFER_SIZE",
    "SEQ_BLOCK",
    "EventLog",
    "LiveState",
    "OperationCache",
    "PositionStream",
    "Publisher",
    "player_dict",
    "playlist_summary",
    "queue_ids",
    "track_dict",
]

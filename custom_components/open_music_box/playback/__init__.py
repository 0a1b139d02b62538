"""Playback: the player, its queue and its audio outputs (libmpv or another media player)."""

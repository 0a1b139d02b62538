"""Sync rooms: several players kept on one timeline by a coordinator in the event loop."""

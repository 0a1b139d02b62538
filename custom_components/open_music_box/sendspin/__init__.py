"""Sendspin (Open Home Foundation's synchronized-audio protocol): the box's server and players."""

"""The event log: every change of a box stamped with a sequence number, replayed and fanned out."""

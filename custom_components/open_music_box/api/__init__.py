"""The ways into a box: one table of operations, registered as actions and WebSocket commands."""

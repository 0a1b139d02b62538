"""Audio outputs: where the box's sound goes (libmpv on the host, or another HA media player)."""

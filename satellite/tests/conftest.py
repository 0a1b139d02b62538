"""The satellite's tests: the integration's fixtures for a real Home Assistant with a room."""

from tests.helpers.satellites import base_url, room_entry

from tests.conftest import auto_enable_custom_integrations

__all__ = ["auto_enable_custom_integrations", "base_url", "room_entry"]

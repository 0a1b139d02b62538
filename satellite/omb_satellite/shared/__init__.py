"""Pure sync math and the protocol version, shared with the integration.

The modules here are symbolic links to custom_components/open_music_box/sync/ in the repository
(one source file for both sides); a built package holds copies of them.
"""

"""Imports: files and URLs fetched, checked, tagged and filed into the library."""

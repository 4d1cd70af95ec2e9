"""Builds the search index: embeds article chunks, reusing unchanged vectors, and publishes atomically."""

"""Answering queries: the search service, spelling, synonyms, snippets, customer messages and re-ranking."""

"""Tools for writers: lint rules, golden queries, slug history, new-article scaffolding and evaluation."""

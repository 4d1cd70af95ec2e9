"""The `kb` command: the composition root that ties the core, the indexer and the site together."""

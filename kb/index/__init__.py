"""The published index, read side: the directory format, vectors, the lexical index and the embedder seam."""

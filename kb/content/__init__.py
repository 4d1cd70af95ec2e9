"""Articles as written: front matter, slugs, loading, Markdown rendering, chunking and compiling a folder."""

"""One file per schema revision, oldest first: 0001, then each later one naming its `down_revision`."""

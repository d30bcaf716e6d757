"""Hostile input: schema fuzzing, upload bombs, request forgery, secrets in logs and histories."""

"""Scheduled ingestion jobs and the daemon that runs them (APScheduler 3.11)."""

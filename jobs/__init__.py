"""The nightly job and its APScheduler setup (thin: which days to run → pipeline.run)."""

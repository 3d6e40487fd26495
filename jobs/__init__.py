"""The nightly job and its scheduler: which days to run, then pipeline.run."""

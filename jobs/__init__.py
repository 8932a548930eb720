"""The scheduler's jobs (:mod:`jobs.scheduler`), their runs and the leader lock."""

# Here rather than in jobs.scheduler, so that naming the jobs (``fairmarket scheduler --help``) does not
# import APScheduler and everything the jobs run.
JOB_NAMES = ("crawl", "detect", "deliver", "price_checks", "price_follows", "index")

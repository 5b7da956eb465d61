"""Reading results: the tidy layer (``tidy``, over the validating reader ``rundir``), the
paper's tables (``tables``), budget curves (``plots``), the leaderboard (``leaderboard``),
the regression check (``compare``), bootstrap and McNemar statistics (``bootstrap``),
``show`` (a finished folder's table) and pass@k estimators (``passk``).

Why apart from ``run``: data flows one way (benchmark -> strategy -> executor -> run store
-> report); the report layer only reads what runs wrote.
"""

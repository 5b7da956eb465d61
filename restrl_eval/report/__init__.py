"""Reading results: pass@k estimators now; tables, plots and the leaderboard join here.

Why apart from ``run``: data flows one way (benchmark -> strategy -> executor -> run store
-> report); the report layer only reads what runs wrote.
"""

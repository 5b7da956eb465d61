"""The ``restrl-eval`` command line (click). One module per command, loaded lazily."""

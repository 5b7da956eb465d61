"""Old import path of ``collect-values`` (kept so existing imports work).

The library now lives in ``restrl_train.data.values`` and the command in
``restrl_train.data.values_cli``. ``ValueRecordFile`` here turns a refused resume into a
one-line click error, as it did before the split.
"""
from __future__ import annotations

import click

from restrl_train.data import values as _values
from restrl_train.data.values import FORMAT, RecordFileError, tree_records
from restrl_train.data.values_cli import collect_values_cmd as collect_values

__all__ = ["FORMAT", "ValueRecordFile", "collect_values", "tree_records"]


class ValueRecordFile(_values.ValueRecordFile):
    def open(self) -> ValueRecordFile:
        try:
            super().open()
        except RecordFileError as exc:
            raise click.ClickException(str(exc)) from None
        return self

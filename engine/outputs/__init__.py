"""The benchmark outputs: what the outbox holds for each month, rebuilt from the ledger.

For a period, :func:`build_period` writes under ``outbox/<period>/``:

- ``SeQuIn_network_<period>.xlsx`` (:mod:`.network`): every unit against every
  area and the network median and range, one sheet per area, trends, gaps in
  provision, the evidence library of good practice, completion and co-production,
  actions opened, done and overdue per unit, and family and friends counts per area;
- ``feedback/SeQuIn_feedback_<UNIT>_<period>.xlsx`` (:mod:`.feedback`): one per
  unit that returned: the unit against the network, its trend, strengths,
  priorities, essential standards not met, what families and friends said
  (comments masked) and the unit's action plan, built from its Actions sheet;
- ``SeQuIn_commissioners_<period>.xlsx`` (:mod:`.commissioner`): a one-page
  summary, then the detail, with essential standards Not met named, actions and
  family and friends counts (never comments);
- ``SeQuIn_easy_read_<period>.xlsx`` (:mod:`.easy_read`): plain words with
  pictures for service users and carers;
- ``family/SeQuIn_family_<UNIT>_<period>.xlsx`` (:mod:`engine.family`): one per
  unit with a counted return: the easy-read family and friends form, protected
  and signed (form ``family/1``), returned through the inbox like a return;
- ``charts/*.png`` (:mod:`.images`): the key charts as images for board papers;
- ``SeQuIn_scores_<period>.csv`` and ``SeQuIn_evidence_<period>.csv``
  (:mod:`.csv_files`).

Where things live:

- :mod:`.figures` reads the ledger once per build (through :class:`~engine.ledger.Ledger`
  methods, the only place that holds SQL) and computes every figure shown;
- :mod:`.sheets` is the one sheet-writing layer (formats, print set-up, row
  heights, tables, notes), shared with the unit workbook generator;
- :mod:`.common` holds the tables more than one output shows;
- :mod:`.build` writes a month's files atomically and marks the month up to date.

Rules kept here:

- Every figure comes from each unit's current return (neither replaced nor
  held). Trends use the periods on record up to and including the one built.
- Incomplete areas are shown, marked, and left out of medians and ranges;
  medians are over units that returned.
- Text that came from a return is written as a string, never as a formula or
  link, with control characters removed; evidence shared beyond its unit has
  likely personal data masked.
- Outputs are deterministic (fixed workbook dates, sorted data): the same
  ledger gives the same bytes.
"""

from importlib import import_module

_WHERE = {
    "build_period": "build",
    "period_folder": "build",
    "refresh_outputs": "build",
    "write_outputs": "build",
    "PeriodData": "figures",
    "collect": "figures",
}


def __getattr__(name: str):
    # Loaded on first use, so that the unit workbook generator, which needs only
    # the sheet-writing layer, does not load every output.
    if name in _WHERE:
        return getattr(import_module(f".{_WHERE[name]}", __name__), name)
    raise AttributeError(name)


__all__ = [
    "PeriodData",
    "build_period",
    "collect",
    "period_folder",
    "refresh_outputs",
    "write_outputs",
]

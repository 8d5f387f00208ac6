"""The SeQuIn benchmark suite.

Run it from the repository root::

    python -m benchmarks.run [--quick] [--out BENCHMARKS.md]

It makes its own synthetic data with the engine (workbooks generated, then
filled in and saved the way a spreadsheet application saves them), measures
generation (on every core and on one), intake (interleaved with its
references, python-calamine and the expat floor), reporting (in process up
to 2,000 units x 36 months, and as the ``sequin report`` and ``sequin
process`` commands), watcher latency and ledger size, each in a fresh
process, and writes the figures with one verdict per target, and the
reference measured in the same run, to ``BENCHMARKS.md``.

Modules:

- :mod:`benchmarks.data`: synthetic homes, returns and ledgers;
- :mod:`benchmarks.cases`: the measurements, one per process
  (``python -m benchmarks.cases NAME PARAMS_PATH RESULT_PATH``);
- :mod:`benchmarks.report`: the machine description and the Markdown file;
- :mod:`benchmarks.run`: the command that runs everything.
"""

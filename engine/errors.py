"""Exceptions for what stops a run (bad configuration, unwritable folders).

What is wrong inside a return is never an exception: it is a Finding.
"""


class SequinError(Exception):
    """An error that stops a command. ``hint`` says what to do about it."""

    def __init__(self, message: str, hint: str = ""):
        super().__init__(message)
        self.hint = hint


class ConfigError(SequinError):
    """The home's configuration, bank, secret or ledger is unusable."""


class BankError(ConfigError):
    """The question bank is broken."""


class UsageError(SequinError):
    """The command was asked for something that cannot be (a month such as 2026-13, an
    unknown unit): the command line says exit code 2, as for any usage error."""

"""Faults and bad input (issue 10): every expected failure is one line naming its cause, with its exit code,
no traceback, and the user's tree left byte-identical."""

"""The package's user-error type.

:class:`UserError` is raised for what a user can fix: a bad argument, file, configuration or
environment setting. Its message is one line that names the argument and what to change.
``ncp-control`` prints it as one line (exit status 2); any other exception is a bug and keeps
its traceback. It subclasses ``ValueError``, so code that catches ``ValueError`` still does.
"""

from __future__ import annotations


class UserError(ValueError):
    """An error the user can fix; its message is one line naming the argument and what to change."""

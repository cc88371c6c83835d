"""The exceptions of the datamodels package.

::

    DataModelsError                 base of everything raised on purpose here
    ├── UnknownModel (KeyError)     a plain type name that is not in the catalog or the library
    ├── InvalidModelName (ValueError)  a domain or type that cannot name a folder or a URL segment
    └── SourceNotFound              a source directory that does not exist

Problems with single files (a broken schema, an unresolvable ``$ref``, a failed download) are not
raised: they are collected as records (``source.LoadError``, ``pull.PullFailure``) so one bad model
never stops the others.
"""

from __future__ import annotations


class DataModelsError(Exception):
    """Base class of the errors this package raises."""


class UnknownModel(DataModelsError, KeyError):
    """No model is known under this name."""

    def __init__(self, name: str, detail: str) -> None:
        super().__init__(name, detail)
        self.name = name
        self.detail = detail

    def __str__(self) -> str:  # KeyError would repr() the arguments
        return self.detail


class InvalidModelName(DataModelsError, ValueError):
    """A domain or type name that is unsafe as a path segment or URL segment."""


class SourceNotFound(DataModelsError):
    """The source directory does not exist or is not a directory."""

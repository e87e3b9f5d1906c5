"""Domain errors of the forms index, each with a message fit to show a user."""

from __future__ import annotations


class FormsIndexError(Exception):
    """Base of every error this package raises on purpose."""


class ModelError(FormsIndexError):
    """The embedding model is missing, unreadable, or not what it claims to be."""


class CatalogueError(FormsIndexError):
    """A catalogue file could not be read at all (row errors are reported, not raised)."""


class IndexArtifactError(FormsIndexError):
    """An index version is missing, corrupt, or does not match the model or code."""


class QualityGateError(FormsIndexError):
    """A new index version scored below the live one on the regression queries."""

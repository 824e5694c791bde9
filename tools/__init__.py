"""Build helpers that are not part of the package (the docs build's griffe extension)."""

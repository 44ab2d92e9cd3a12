"""crmsync: keeps qualified leads from dying on the vine, beside Salesforce or HubSpot."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("crmsync")
except PackageNotFoundError:  # pragma: no cover - running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]

"""Helpers of the RSS reintegration workspace: all logic the notebooks call.

Modules are imported where used (``from helpers import loader``), so importing the
package itself stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"

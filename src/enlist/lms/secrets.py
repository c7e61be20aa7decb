"""The portal's token peppers; the code is `enlist.web.peppers`, shared with the API tokens of
both services."""

from enlist.web.peppers import Peppers, load_peppers

__all__ = ["Peppers", "load_peppers"]

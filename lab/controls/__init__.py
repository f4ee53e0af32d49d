"""The controls registry: the spine every enforcement point, profile and attack refers to."""

from .catalog import BY_ID, CONTROLS
from .guard import Guard, guard
from .registry import Registry

__all__ = ["BY_ID", "CONTROLS", "Guard", "Registry", "guard"]

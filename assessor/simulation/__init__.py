"""The simulated dispute world behind ``assessor simulate`` (public API in :mod:`assessor.simulate`)."""

from assessor.simulation.params import ChatTemplates, ParameterFileError, SimulationParams

__all__ = ["ChatTemplates", "ParameterFileError", "SimulationParams"]

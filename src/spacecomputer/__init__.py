"""Space Computer: sports video to metric 3D pose and biomechanics."""

__version__ = "0.1.0"

__all__ = ["__version__"]

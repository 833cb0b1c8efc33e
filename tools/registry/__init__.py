"""Model registry for every learned artefact (retriever, calibrator, code-consistency classifier...).

See :mod:`tools.registry.mlflow_registry` for the contract; this package never imports app/ or evals/.
"""

from tools.registry.mlflow_registry import (
    CHALLENGER,
    CHAMPION,
    ModelRegistry,
    ModelVersionInfo,
    default_tracking_uri,
)

__all__ = ["CHALLENGER", "CHAMPION", "ModelRegistry", "ModelVersionInfo", "default_tracking_uri"]

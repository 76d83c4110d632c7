"""Load any model artifact without knowing its task in advance (the registry stores all three)."""

from __future__ import annotations

from propensity.errors import InvalidInput
from propensity.modeling.artifacts import read_container
from propensity.modeling.binary import BinaryModel
from propensity.modeling.regression import RegressionModel
from propensity.modeling.survival import SurvivalModel

AnyModel = BinaryModel | SurvivalModel | RegressionModel
_KINDS: dict[str, type[BinaryModel] | type[SurvivalModel] | type[RegressionModel]] = {
    BinaryModel.KIND: BinaryModel,
    SurvivalModel.KIND: SurvivalModel,
    RegressionModel.KIND: RegressionModel,
}


def load_model(blob: bytes) -> AnyModel:
    manifest, _ = read_container(blob)
    kind = manifest.get("kind")
    if kind not in _KINDS:
        raise InvalidInput(f"Unknown model kind {kind!r} in artifact.")
    return _KINDS[str(kind)].from_bytes(blob)

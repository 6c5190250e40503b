"""Fixtures of the pose-lab tests: the standing athlete's body model, skeleton and a session on it."""

from __future__ import annotations

import pytest

from spacecomputer.biomech import BodyModel
from spacecomputer.biomech.solver import PoseSession, SkeletonModel
from tests.biomech.scene import UP
from tests.biomech.solver.poses import MASS_KG, standing_sequence


@pytest.fixture(scope="session")
def body() -> BodyModel:
    return BodyModel.from_anthropometry(mass_kg=MASS_KG, height_m=1.75, sex=None)


@pytest.fixture(scope="session")
def model() -> SkeletonModel:
    return SkeletonModel.from_sequence(standing_sequence(), up=UP)


@pytest.fixture
def session(body: BodyModel) -> PoseSession:
    return PoseSession.from_sequence(standing_sequence(), 2, up=UP, body=body)

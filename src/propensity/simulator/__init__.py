"""Demo data: a documented generative model of one tenant's CRM data (docs/simulator.md).

Pure: no database, no files, no clock except the default ``end`` (today, UTC).
"""

from propensity.simulator.accounts import ACCOUNT_COLUMNS, HEALTH_COLUMNS
from propensity.simulator.config import SimulationConfig
from propensity.simulator.deals import DEAL_COLUMNS
from propensity.simulator.events import EVENT_COLUMNS, EVENT_TYPES
from propensity.simulator.leads import LEAD_COLUMNS, seniority_of_title
from propensity.simulator.simulation import STAGES, SimulatedData, simulate
from propensity.simulator.subscribers import SUBSCRIBER_COLUMNS
from propensity.simulator.truth import Effect, OutcomeTruth, Truth

__all__ = [
    "ACCOUNT_COLUMNS",
    "DEAL_COLUMNS",
    "EVENT_COLUMNS",
    "EVENT_TYPES",
    "HEALTH_COLUMNS",
    "LEAD_COLUMNS",
    "STAGES",
    "SUBSCRIBER_COLUMNS",
    "Effect",
    "OutcomeTruth",
    "SimulatedData",
    "SimulationConfig",
    "Truth",
    "seniority_of_title",
    "simulate",
]

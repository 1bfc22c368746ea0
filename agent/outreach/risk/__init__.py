"""An explainable default-risk score: features, synthetic history, model and scoring.

Scoring needs numpy only; scikit-learn is imported inside ``training.train`` alone.
"""

from agent.outreach.risk.features import (
    FEATURE_DESCRIPTIONS,
    FEATURE_NAMES,
    RiskDataError,
    account_features,
    read_history_csv,
)
from agent.outreach.risk.model import (
    Contribution,
    RiskModel,
    RiskModelError,
    RiskScore,
    load_risk_model,
)
from agent.outreach.risk.synthetic import generate_history
from agent.outreach.risk.training import train, train_demo_model

__all__ = [
    "FEATURE_DESCRIPTIONS",
    "FEATURE_NAMES",
    "Contribution",
    "RiskDataError",
    "RiskModel",
    "RiskModelError",
    "RiskScore",
    "account_features",
    "generate_history",
    "load_risk_model",
    "read_history_csv",
    "train",
    "train_demo_model",
]

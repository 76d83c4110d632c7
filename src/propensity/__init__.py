"""Propensity: calibrated, explained predictions from CRM data."""

__version__ = "0.1.0"

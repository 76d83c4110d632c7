"""Insights computed from a tenant's business data (market trends from closed sales)."""

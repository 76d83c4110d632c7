"""The five documented API surfaces (thin adapters over the core) and their error envelopes."""

"""spec/ml-platform.md under `/api/ml`: lead scores, the model registry with champion and
challenger deploys, monitoring (performance, drift, alerts), features, market insights,
analytics and per-tenant configuration. Responses are `{"success": true, "data": ...}`;
errors `{"success": false, "error": {"code", "message", "details"}}` (surfaces/envelopes.py).
"""

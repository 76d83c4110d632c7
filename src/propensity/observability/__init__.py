"""What operations see: Prometheus metrics (`/metrics`) and liveness and readiness checks."""

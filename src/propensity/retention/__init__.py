"""What Propensity deletes, and when (docs/security.md, "Retention")."""

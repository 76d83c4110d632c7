"""The dashboard: server-rendered pages that read and write through the same core as the APIs
(ADR 0013)."""

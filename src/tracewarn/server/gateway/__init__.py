"""The federation gateway (EFGS-compatible): its own app, database and certificate registry."""

"""The platform service: the REST API, its security building blocks and its wiring to storage and jobs."""

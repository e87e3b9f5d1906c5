"""Routers of the api, one module per audience or resource."""

"""api: the public web service (FastAPI) — chat proxy to Rasa, search, feedback, the widget.

Entry points: ``python -m api`` (uvicorn with logging configured) and ``python -m api.stack``
(the whole system: Rasa, the action server and the api; what ``make run`` starts).
"""

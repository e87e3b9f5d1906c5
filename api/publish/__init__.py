"""Publishing a new index version: a job in the app database, built by a separate process.

``jobs`` keeps the state (any api worker can report it), ``runner`` is the build process
(``python -m api.publish JOB_ID``: build, quality gate, atomic switch), ``launcher`` starts
it from the api and swaps the serving engine when it is done (docs/staff.md).
"""

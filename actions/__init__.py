"""Custom actions (rasa_sdk action server): thin wiring of slots, the api client and replies."""

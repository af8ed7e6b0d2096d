"""The Pustaka services: enrollment, assessment and notification."""

"""From hedge targets to order intents, and the checks before anything is sent."""

"""Session, InteractiveSession, fetch/feed mapping, the executor and the timeline."""

"""What every app stands on and that knows no app: stored files and their signed URLs,
delete confirmation, the client's address, CSV formula safety, publishing tasks by name."""

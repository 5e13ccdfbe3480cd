"""The browser's view of a world: live (socius run/serve --view-port) or recorded (socius view)."""

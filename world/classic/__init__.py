"""Classic experiments of cooperation science on the world engine."""

"""The emotional-intelligence evaluation: items from real worlds, minds asked, skills scored."""

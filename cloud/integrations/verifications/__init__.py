"""External authenticators (face recognition): a terminal says "person X verified at door D"; the cloud
checks X's rules for D at that moment and opens the door with a one-shot expiring command, alone or as the
second factor after a card."""

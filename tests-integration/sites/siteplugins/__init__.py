"""Actions shared by every test site, so that each adapter serves the same behaviour."""

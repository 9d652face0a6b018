"""Built-in recipient resolvers."""

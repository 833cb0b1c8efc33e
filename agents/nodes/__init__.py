"""The graph's nodes, one module each, in the order they run."""

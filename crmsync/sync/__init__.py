"""Pull with watermarks, and the cycle: pull → derive → decide → enqueue → dispatch."""

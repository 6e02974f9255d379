"""Report writers: pure functions from results to text, and atomic file output."""
